using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Dovecote.Perf;

/// <summary>A child process of this run; its last output lines are kept for a failure message.</summary>
internal sealed class Child
{
    private readonly Process _process;
    private readonly Queue<string> _tail = new();

    public Child(string name, string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        Name = name;
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public bool HasExited => _process.HasExited;
    public int Id => _process.Id;

    public async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        _process.WaitForExit(); // the output events are drained
    }

    public string Tail
    {
        get { lock (_tail) return string.Join('\n', _tail); }
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { /* already gone */ }
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _tail.Enqueue(line.Length > 400 ? line[..400] : line);
            while (_tail.Count > 100) _tail.Dequeue();
        }
    }
}

/// <summary>Every child and temp folder of this run, removed on exit, Ctrl-C, SIGTERM or an exception.</summary>
internal static class Children
{
    private static readonly List<Child> All = [];
    private static readonly List<string> Folders = [];
    private static readonly List<PosixSignalRegistration> Signals = [];

    public static void InstallExitHandlers()
    {
        // Our own registrations: the receiver's host lifetime also takes SIGINT/SIGTERM, and would only stop itself.
        Signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        Signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => CleanUp();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => CleanUp();
    }

    private static void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Console.WriteLine($"{context.Signal}: stopping every child process");
        CleanUp();
        Environment.Exit(130);
    }

    public static Child Start(Child child)
    {
        lock (All) All.Add(child);
        return child;
    }

    public static void Stop(Child child)
    {
        lock (All) All.Remove(child);
        child.Kill();
    }

    public static string TempFolder(string prefix)
    {
        var path = Directory.CreateTempSubdirectory(prefix).FullName;
        lock (Folders) Folders.Add(path);
        return path;
    }

    public static void CleanUp()
    {
        Child[] children;
        lock (All) { children = [.. All]; All.Clear(); }
        foreach (var child in children.Reverse()) child.Kill();
        string[] folders;
        lock (Folders) { folders = [.. Folders]; Folders.Clear(); }
        foreach (var folder in folders)
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (IOException) { /* a child may still hold a file for a moment */ }
            catch (UnauthorizedAccessException) { }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Polls GET {url} until 200.</summary>
    public static async Task WaitForReadyAsync(Child child, string url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (child.HasExited) throw new InvalidOperationException($"{child.Name} exited:\n{child.Tail}");
            try
            {
                using var response = await http.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (watch.Elapsed > timeout) throw new TimeoutException($"{child.Name} was not ready within {timeout.TotalSeconds:F0} s:\n{child.Tail}");
            await Task.Delay(100);
        }
    }

    /// <summary>The build output of a project of this solution, in this build's configuration (Debug or Release).</summary>
    public static string Dll(string projectFolder, string assembly)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Dovecote.sln"))) dir = dir.Parent;
        var root = dir?.FullName ?? throw new InvalidOperationException("Dovecote.sln not found above " + AppContext.BaseDirectory);
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var path = Path.Combine(root, projectFolder, "bin", configuration, "net10.0", assembly + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution (or this project) in {configuration}", path);
    }

    /// <summary>The 1, 5 and 15 minute load averages, as uptime prints them.</summary>
    public static string Load()
    {
        try { return string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }
}

/// <summary>A webhook endpoint in this process that answers 200 at once and counts what it got.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _total;

    private Receiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    public long Total => Interlocked.Read(ref _total);

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = new Receiver(builder.Build());
        receiver._app.MapPost("/hook/{id}", async (HttpRequest request) =>
        {
            await request.Body.CopyToAsync(Stream.Null);
            Interlocked.Increment(ref receiver._total);
            return Results.Ok();
        });
        await receiver._app.StartAsync();
        receiver.Url = receiver._app.Urls.First();
        return receiver;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
