using System.Diagnostics;

namespace Dovecote.Tests.Deploy;

/// <summary>
/// The shared <c>helm-check</c> tool (beside the checkout, in <c>../shared/tools</c>): renders the chart like
/// <c>helm template</c>, validates the values against values.schema.json and every manifest against the Kubernetes schemas.
/// </summary>
public static class HelmCheck
{
    /// <summary>One run at a time: the first run installs the tool's cache, and two installs at once would race (apt, npm).</summary>
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    public static string RepositoryRoot { get; } = FindRoot();

    public static string Chart => Path.Combine(RepositoryRoot, "deploy", "k8s", "dovecote");

    /// <summary>
    /// Where the tool is: DOVECOTE_HELM_CHECK, else ../shared/tools beside the checkout, else the machine's shared folder (a
    /// clone made elsewhere, e.g. under /tmp). A missing tool fails the test (never a skip), as the chart would go unchecked.
    /// </summary>
    public static string Tool
    {
        get
        {
            string?[] candidates =
            [
                Environment.GetEnvironmentVariable("DOVECOTE_HELM_CHECK"),
                Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "tools", "helm-check")),
                "/work/shared/tools/helm-check",
            ];
            var tool = candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && File.Exists(c));
            Assert.True(tool is not null, $"helm-check is missing (looked at {string.Join(", ", candidates.Where(c => c is not null))}): "
                + "the chart tests need the shared tools checked out beside the repository (../shared/tools/helm-check, see "
                + "../shared/tools/helm-render/README.md), or DOVECOTE_HELM_CHECK set to the tool");
            return tool;
        }
    }

    /// <summary>Runs helm-check over the chart with the values files; returns its exit code, its output and the rendered stream.</summary>
    public static async Task<HelmCheckResult> RunAsync(params string[] valuesFiles)
    {
        var rendered = Path.GetTempFileName();
        await OneAtATime.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            var start = new ProcessStartInfo(Tool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot };
            start.ArgumentList.Add(Chart);
            foreach (var file in valuesFiles)
            {
                start.ArgumentList.Add("-f");
                start.ArgumentList.Add(file);
            }
            start.Environment["HELM_CHECK_OUT"] = rendered;
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            // The first run installs golang-go and npm packages into ~/.cache/helm-check (about 30 s); later runs take a second.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(4));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            var output = await stdout + await stderr;
            return new HelmCheckResult(process.ExitCode, output, File.Exists(rendered) ? await File.ReadAllTextAsync(rendered) : "");
        }
        finally
        {
            OneAtATime.Release();
            File.Delete(rendered);
        }
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dovecote.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException($"no Dovecote.sln above {AppContext.BaseDirectory}");
    }
}

public sealed record HelmCheckResult(int ExitCode, string Output, string Rendered);
