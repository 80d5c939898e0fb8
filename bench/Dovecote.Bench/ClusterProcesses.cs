using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Dovecote.Bench;

/// <summary>A child process of the cluster benchmark (store, Silo, Api); its last output lines are kept for a failure message.</summary>
internal sealed class Child
{
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly List<string> _lines = [];

    public Child(string name, string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        Name = name;
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start");
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) =>
        {
            if (_killed) return;
            UnexpectedExit = _process.ExitCode;
            Console.WriteLine($"!!! {Name} EXITED BY ITSELF with code {_process.ExitCode} !!!");
        };
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public string HttpUrl { get; init; } = "";
    public int SiloPort { get; init; }
    public bool HasExited => _process.HasExited;

    /// <summary>Set when the process ended without our Kill: its exit code.</summary>
    public int? UnexpectedExit { get; private set; }

    private bool _killed;

    public string Tail
    {
        get { lock (_tail) return string.Join('\n', _tail); }
    }

    /// <summary>Everything the process wrote (up to 50,000 lines).</summary>
    public string[] Lines
    {
        get { lock (_tail) return [.. _lines]; }
    }

    /// <summary>SIGKILL, no shutdown hooks.</summary>
    public void Kill()
    {
        _killed = true;
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
            _tail.Enqueue(line.Length > 300 ? line[..300] : line);
            while (_tail.Count > 30) _tail.Dequeue();
            if (_lines.Count < 50_000) _lines.Add(line);
        }
    }
}

/// <summary>Every child and temp folder of this run, so they all go on exit, Ctrl-C or an exception.</summary>
internal static class Children
{
    private static readonly List<Child> All = [];
    private static readonly List<string> Folders = [];
    private static readonly List<PosixSignalRegistration> Signals = [];
    private static int _installed;

    private static void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Console.WriteLine($"{context.Signal}: stopping every child process");
        CleanUp();
        Environment.Exit(130);
    }

    public static void InstallExitHandlers()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        // Our own registrations: the receiver's host lifetime also takes SIGINT/SIGTERM, and would only stop itself.
        Signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        Signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => CleanUp();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => CleanUp();
    }

    public static Child Start(Child child)
    {
        lock (All) All.Add(child);
        return child;
    }

    public static string TempFolder(string prefix)
    {
        var path = Directory.CreateTempSubdirectory(prefix).FullName;
        lock (Folders) Folders.Add(path);
        return path;
    }

    /// <summary>With --logs DIR, every child's output is written there on clean-up.</summary>
    public static string? LogDirectory { get; set; }

    public static IReadOnlyList<Child> Started
    {
        get { lock (All) return [.. All]; }
    }

    public static void CleanUp()
    {
        Child[] children;
        lock (All) { children = [.. All]; All.Clear(); }
        foreach (var child in children.Reverse()) child.Kill();
        if (LogDirectory is { } logs)
        {
            Directory.CreateDirectory(logs);
            foreach (var child in children) File.WriteAllLines(Path.Combine(logs, child.Name + ".log"), child.Lines);
        }
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

    public static async Task WaitForPortAsync(Child child, int port, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (child.HasExited) throw new InvalidOperationException($"{child.Name} exited:\n{child.Tail}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (watch.Elapsed < timeout)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Polls GET {url} until 200; returns how long it took.</summary>
    public static async Task<TimeSpan> WaitForReadyAsync(Child child, string url, TimeSpan timeout, Stopwatch? since = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var watch = since ?? Stopwatch.StartNew();
        while (true)
        {
            if (child.HasExited) throw new InvalidOperationException($"{child.Name} exited:\n{child.Tail}");
            try
            {
                using var response = await http.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK) return watch.Elapsed;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (watch.Elapsed > timeout) throw new TimeoutException($"{child.Name} was not ready within {timeout.TotalSeconds:F0} s:\n{child.Tail}");
            await Task.Delay(100);
        }
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Dovecote.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Dovecote.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A webhook endpoint that answers 200 at once and records every delivery's message text and webhook id.</summary>
internal sealed class HookRecorder : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, List<string>> _byMessage = new(StringComparer.Ordinal);
    private long _total;

    private HookRecorder(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    public long Total => Interlocked.Read(ref _total);

    public static async Task<HookRecorder> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var recorder = new HookRecorder(builder.Build());
        recorder._app.MapPost("/hook/{id}", async (HttpRequest request) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            var message = body.RootElement.GetProperty("data").GetProperty("message").GetString() ?? "";
            var webhookId = request.Headers["webhook-id"].ToString();
            var ids = recorder._byMessage.GetOrAdd(message, _ => []);
            lock (ids) ids.Add(webhookId);
            Interlocked.Increment(ref recorder._total);
            return Results.Ok();
        });
        await recorder._app.StartAsync();
        recorder.Url = recorder._app.Urls.First();
        return recorder;
    }

    public bool Has(string message) => _byMessage.ContainsKey(message);

    /// <summary>The webhook ids this message arrived with, one per delivery (a copy).</summary>
    public IReadOnlyList<string> Deliveries(string message)
    {
        if (!_byMessage.TryGetValue(message, out var ids)) return [];
        lock (ids) return [.. ids];
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
