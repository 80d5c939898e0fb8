using System.Diagnostics;
using Dovecote.Tests.Hosting;

namespace Dovecote.Tests.Deploy;

/// <summary>
/// Silo and Api published once per test run with the command the Dockerfiles run (<c>dotnet publish P/P.csproj -c Release -o DIR</c>),
/// into folders that are read-only to the user the processes run as, as in the image.
/// </summary>
public sealed class PublishedExecutables : IAsyncLifetime
{
    /// <summary>nobody: the tests run as root here, the image as uid 1654; any unprivileged uid shows the same thing.</summary>
    public const int Uid = 65534;

    private readonly string _root = Directory.CreateTempSubdirectory("dovecote-publish-").FullName;
    private readonly List<string> _temporaryFolders = [];

    public string Folder(string project) => Path.Combine(_root, project);

    public async ValueTask InitializeAsync()
    {
        // Readable and traversable by anyone, writable by root only (CreateTempSubdirectory makes it 0700).
        SetMode(_root, (UnixFileMode)0b111_101_101);
        // One after the other: both build Grains, and two builds of one project at once would race.
        foreach (var project in new[] { "Silo", "Api" }) await PublishAsync(project);
    }

    private async Task PublishAsync(string project)
    {
        var start = new ProcessStartInfo("dotnet", ["publish", $"{project}/{project}.csproj", "-c", "Release", "-o", Folder(project),
            "--disable-build-servers", "-v", "q"])
        { WorkingDirectory = HelmCheck.RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
        Assert.True(process.ExitCode == 0, $"dotnet publish {project} failed: {await output}{await errors}");
        Assert.True(File.Exists(Path.Combine(Folder(project), $"Dovecote.{project}.dll")));
    }

    /// <summary>
    /// Starts a published executable as <see cref="Uid"/> through <c>setpriv</c>, with only <paramref name="environment"/>
    /// (nothing inherited from the test process, as in a container) plus what the image sets: HOME and the working folder
    /// are the read-only app folder, TMPDIR a fresh folder that stands for the pod's emptyDir at /tmp.
    /// </summary>
    public DovecoteProcess Start(string project, IReadOnlyDictionary<string, string> environment)
    {
        var tmp = Directory.CreateTempSubdirectory($"dovecote-{project.ToLowerInvariant()}-tmp-").FullName;
        SetMode(tmp, (UnixFileMode)0b111_111_111);
        lock (_temporaryFolders) _temporaryFolders.Add(tmp);
        var image = new Dictionary<string, string>(environment)
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = Folder(project),
            ["TMPDIR"] = tmp,
            ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
        };
        return DovecoteProcess.StartCommand("/usr/bin/setpriv",
            [$"--reuid={Uid}", $"--regid={Uid}", "--clear-groups", "--no-new-privs", "--", "dotnet", Path.Combine(Folder(project), $"Dovecote.{project}.dll")],
            image, workingDirectory: Folder(project), inheritEnvironment: false);
    }

    /// <summary>setpriv and file modes: the simulation of the image's user needs Linux, as the image does.</summary>
    private static void SetMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("the deploy tests run on Linux");
        File.SetUnixFileMode(path, mode);
    }

    /// <summary>Call once the processes are gone.</summary>
    public ValueTask DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        foreach (var folder in _temporaryFolders) Directory.Delete(folder, recursive: true);
        return ValueTask.CompletedTask;
    }
}
