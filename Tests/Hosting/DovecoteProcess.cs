using System.Diagnostics;
using System.Text;

namespace Dovecote.Tests.Hosting;

/// <summary>One of our executables (Silo, Api) run as a real child process, its output kept for failure messages.</summary>
public sealed class DovecoteProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    private DovecoteProcess(string project, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [AssemblyPath(project)]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static DovecoteProcess Start(string project, IReadOnlyDictionary<string, string> environment) => new(project, environment);

    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    public Task WaitForExitAsync() => _process.WaitForExitAsync(TestContext.Current.CancellationToken);

    /// <summary>Dovecote.{project}.dll from the same build configuration as this test assembly.</summary>
    public static string AssemblyPath(string project)
    {
        var testDirectory = AppContext.BaseDirectory;
        var root = new DirectoryInfo(testDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Dovecote.sln"))) root = root.Parent;
        Assert.NotNull(root);
        var configuration = new DirectoryInfo(testDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<Configuration>/net10.0
        var path = Path.Combine(root.FullName, project, "bin", configuration, "net10.0", $"Dovecote.{project}.dll");
        Assert.True(File.Exists(path), $"{path} is missing: build the solution first");
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
