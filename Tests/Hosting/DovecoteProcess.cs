using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Dovecote.Tests.Hosting;

/// <summary>One of our executables (Silo, Api) run as a real child process, its output kept for failure messages.</summary>
public sealed class DovecoteProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private DovecoteProcess(string project, IReadOnlyDictionary<string, string> environment)
        : this(new ProcessStartInfo("dotnet", [AssemblyPath(project)]), environment)
    {
    }

    private DovecoteProcess(ProcessStartInfo start, IReadOnlyDictionary<string, string> environment)
    {
        // Never the default ports (8080, 8081), which parallel tests would fight over.
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        HttpUrl = start.Environment["ASPNETCORE_URLS"]!;
        _process = new ChildProcess(start);
    }

    public static DovecoteProcess Start(string project, IReadOnlyDictionary<string, string> environment) => new(project, environment);

    /// <summary>
    /// Any command line that runs one of our executables, e.g. a published dll behind <c>setpriv</c>, with the same
    /// environment rules as <see cref="Start(string, IReadOnlyDictionary{string, string})"/>; with
    /// <paramref name="inheritEnvironment"/> false the process gets only <paramref name="environment"/> (as in a container).
    /// </summary>
    public static DovecoteProcess StartCommand(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment,
        string? workingDirectory = null, bool inheritEnvironment = true)
    {
        var start = new ProcessStartInfo(fileName, arguments) { WorkingDirectory = workingDirectory ?? "" };
        if (!inheritEnvironment) start.Environment.Clear();
        return new(start, environment);
    }

    /// <summary>Where the process serves HTTP: the Api's endpoints, or a Silo's health probes.</summary>
    public string HttpUrl { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Output => _process.Output;

    /// <summary>SIGKILL: no shutdown hooks, no flushing.</summary>
    public Task KillAsync() => _process.KillAsync(TestContext.Current.CancellationToken);

    /// <summary>SIGTERM, as Kubernetes stops a pod: the host shuts down gracefully. Waits for the exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited) Assert.Equal(0, SendSignal(_process.Id, Sigterm));
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
    }

    private const int Sigterm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public Task WaitForExitAsync() => _process.WaitForExitAsync(TestContext.Current.CancellationToken);

    /// <summary>Polls <paramref name="readyUrl"/> until it answers 2xx; fails with the process output if it exits or takes over a minute.</summary>
    public async Task WaitUntilReadyAsync(string readyUrl)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(HasExited, $"the process exited: {Output}");
            try
            {
                using var response = await http.GetAsync(readyUrl, TestContext.Current.CancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            Assert.True(DateTime.UtcNow < deadline, $"the process did not become ready: {Output}");
            await Task.Delay(200, TestContext.Current.CancellationToken); // polling a starting process
        }
    }

    /// <summary>send_notification at the /mcp of an Api listening on loopback port <paramref name="httpPort"/>.</summary>
    public static Task<JsonElement> SendNotificationAsync(int httpPort, string bearer, object arguments) =>
        CallToolAsync($"http://127.0.0.1:{httpPort}/mcp", bearer, "send_notification", arguments);

    /// <summary>A tools/call over plain JSON-RPC, as any MCP client sends it; returns the structured content of a result that is no tool error.</summary>
    public static async Task<JsonElement> CallToolAsync(string mcpUrl, string bearer, string tool, object arguments)
    {
        using var http = new HttpClient();
        using var request = ToolCallRequest(mcpUrl, bearer, tool, arguments);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var result = ToolCallResult(text);
        Assert.False(result.TryGetProperty("isError", out var isError) && isError.GetBoolean(), text);
        return result.GetProperty("structuredContent").Clone();
    }

    /// <summary>A tools/call POST to <paramref name="mcpUrl"/> with the headers every MCP client sends.</summary>
    public static HttpRequestMessage ToolCallRequest(string mcpUrl, string bearer, string tool, object arguments)
    {
        var body = JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 1, method = "tools/call", @params = new { name = tool, arguments } });
        var request = new HttpRequestMessage(HttpMethod.Post, mcpUrl) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        return request;
    }

    /// <summary>The JSON-RPC "result" of a tools/call answered as an event stream.</summary>
    public static JsonElement ToolCallResult(string text)
    {
        var json = text.Split('\n').Where(l => l.StartsWith("data:")).Select(l => l["data:".Length..].Trim()).Last(l => l.Length > 0);
        return JsonDocument.Parse(json).RootElement.GetProperty("result").Clone();
    }

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

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
