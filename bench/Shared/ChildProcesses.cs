using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Dovecote.Bench.Shared;

/// <summary>A child process of a bench run (a store, a Silo, an Api, wrk); its output is kept for a failure message. Compiled into both bench programs.</summary>
internal sealed class Child
{
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly List<string> _lines = [];
    private bool _killed;

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
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) =>
        {
            if (_killed || ExitsByItself) return;
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

    /// <summary>A tool run to its end (wrk, a load generator), rather than a server whose exit is news.</summary>
    public bool ExitsByItself { get; init; }

    public bool HasExited => _process.HasExited;
    public int Id => _process.Id;

    /// <summary>User and kernel CPU time the process has used so far (zero once it is gone).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;
            }
            catch (InvalidOperationException) { return TimeSpan.Zero; }
        }
    }

    /// <summary>The exit code, once the process has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Set when the process ended without our Kill, and was not meant to: its exit code.</summary>
    public int? UnexpectedExit { get; private set; }

    public string Tail
    {
        get { lock (_tail) return string.Join('\n', _tail); }
    }

    /// <summary>Everything the process wrote (up to 50,000 lines).</summary>
    public string[] Lines
    {
        get { lock (_tail) return [.. _lines]; }
    }

    public async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        _process.WaitForExit(); // the output events are drained
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
            _tail.Enqueue(line.Length > 400 ? line[..400] : line);
            while (_tail.Count > 50) _tail.Dequeue();
            if (_lines.Count < 50_000) _lines.Add(line);
        }
    }
}

/// <summary>Every child and temp folder of this run, so they all go on exit, Ctrl-C, SIGTERM or an exception.</summary>
internal static class Children
{
    private static readonly List<Child> All = [];
    private static readonly List<string> Folders = [];
    private static readonly List<PosixSignalRegistration> Signals = [];
    private static int _installed;

    /// <summary>With --logs DIR, every child's output is written there on clean-up.</summary>
    public static string? LogDirectory { get; set; }

    public static IReadOnlyList<Child> Started
    {
        get { lock (All) return [.. All]; }
    }

    public static void InstallExitHandlers()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        // Our own registrations: an in-process host's lifetime also takes SIGINT/SIGTERM, and would only stop itself.
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

    /// <summary>The build output of a project of this solution, in this build's configuration (Debug or Release).</summary>
    public static string Dll(string projectFolder, string assembly)
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var path = Path.Combine(RepoRoot(), projectFolder, "bin", configuration, "net10.0", assembly + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution (or this project) in {configuration}", path);
    }

    /// <summary>The 1, 5 and 15 minute load averages, as uptime prints them.</summary>
    public static string Load()
    {
        try { return string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }
}
