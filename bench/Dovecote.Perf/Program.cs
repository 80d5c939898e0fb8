// Dovecote next to a bare MCP SDK server, measured from other processes (wrk, and an open-loop generator).
// Usage: dotnet run -c Release --project bench/Dovecote.Perf [-- --seconds 10 --connections 32 --channels 200 --no-openloop]
//        dotnet run -c Release --project bench/Dovecote.Perf -- --cluster 3 [--store redis|azure]   (Silo processes and a cluster-mode Api)
//        dotnet run -c Release --project bench/Dovecote.Perf -- openloop --rate 300 --seconds 10 --url http://127.0.0.1:PORT --key KEY
//        dotnet run -c Release --project bench/Dovecote.Perf -- serve [--seconds 600]   (Dovecote with the channels, for openloop by hand)
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dovecote.Bench.Shared;
using Dovecote.Perf;

if (args.FirstOrDefault() == "openloop") return await OpenLoop.RunAsync(args);

var serve = args.FirstOrDefault() == "serve";
var seconds = Args.Int(args, "--seconds", serve ? 600 : 10);
var connections = Args.Int(args, "--connections", 32);
var threads = Args.Int(args, "--threads", 1);
var channelCount = Args.Int(args, "--channels", 200);
var openLoopSeconds = Args.Int(args, "--openloop-seconds", 10);
// Each row first runs unmeasured, so both servers are measured with their code jitted and tiered up (a cold bare server
// measured half its warm rate, which flattered every ratio).
var warmupSeconds = Args.Int(args, "--warmup-seconds", 3);
var siloCount = Args.Int(args, "--cluster", 0); // 0: the embedded Api
const string OAuthPassword = "perf-password-3e9d";
// What both modes give Dovecote on top of its defaults (the cluster's silos and Api get the same).
var settings = new Dictionary<string, string>
{
    ["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true",
    ["Tenants__SendsPerMinute"] = "100000", // the hard maximum; the default 600 would turn the load into tool errors
    ["Tenants__MaxChannels"] = "1000",
    ["Delivery__OutboxCapacity"] = "100000",
    ["Logging__LogLevel__Default"] = "Warning",
};

Children.InstallExitHandlers();
Children.LogDirectory = Args.Text(args, "--logs", "") is { Length: > 0 } logs ? Path.GetFullPath(logs) : null;
try
{
    var folder = Children.TempFolder("dovecote-perf-");
    var cluster = siloCount > 0 ? new LocalCluster(Args.Text(args, "--store", LocalCluster.Redis), settings) : null;
    var mode = cluster is null
        ? "embedded (one Api process with its own silo, file storage)"
        : $"cluster, {siloCount} silos (Silo processes), 1 Api (Orleans client), store {cluster.StoreName}";
    Console.WriteLine($"Dovecote perf, {mode}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
    Console.WriteLine($"load average at start: {Children.Load()}");
    await using var receiver = await Receiver.StartAsync();

    // 1. The bare SDK server.
    var barePort = Children.FreePort();
    var bare = Children.Start(new Child("BareMcp", "dotnet", [Children.Dll("bench/BareMcp", "Dovecote.BareMcp"), "--urls", $"http://127.0.0.1:{barePort}"]));
    var bareUrl = $"http://127.0.0.1:{barePort}/mcp";

    // 2. Dovecote: the embedded Api (its own silo, file storage in a temp folder), or a store, the Silo processes and a cluster-mode Api.
    var servers = new List<Child> { bare };
    Child api;
    string apiKey, adminToken;
    if (cluster is null)
    {
        (apiKey, adminToken) = ("perf-key-5b1e-7f3a9c2d4e6b8a0c1d3f", Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
        var apiDll = Children.Dll("Api", "Dovecote.Api");
        var environment = new Dictionary<string, string>(settings)
        {
            ["DOVECOTE_API_KEYS"] = apiKey,
            ["ADMIN_TOKEN"] = adminToken,
            ["OAUTH_PASSWORD"] = OAuthPassword,
            ["DOVECOTE_DATA_DIR"] = Children.TempFolder("dovecote-perf-data-"),
            ["DOVECOTE_SILO_PORT"] = Children.FreePort().ToString(),
            ["DOVECOTE_GATEWAY_PORT"] = Children.FreePort().ToString(),
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Children.FreePort()}",
        };
        api = Children.Start(new Child("Api", "dotnet", [apiDll], environment, Path.GetDirectoryName(apiDll)) { HttpUrl = environment["ASPNETCORE_URLS"] });
    }
    else
    {
        (apiKey, adminToken) = (cluster.ApiKey, cluster.AdminToken);
        var started = Stopwatch.StartNew();
        await cluster.StartStoreAsync();
        servers.Add(cluster.StoreProcess!);
        // The first silo alone, then the others: they join a cluster that exists; the Api starts once all are ready, so it knows every gateway.
        var first = cluster.StartSilo();
        await Children.WaitForReadyAsync(first, $"{first.HttpUrl}/health/ready", TimeSpan.FromSeconds(120));
        var others = Enumerable.Range(1, siloCount - 1).Select(_ => cluster.StartSilo()).ToList();
        foreach (var silo in others) await Children.WaitForReadyAsync(silo, $"{silo.HttpUrl}/health/ready", TimeSpan.FromSeconds(120));
        servers.AddRange(cluster.Silos);
        api = cluster.StartApi(new Dictionary<string, string> { ["OAUTH_PASSWORD"] = OAuthPassword });
        Console.WriteLine($"{cluster.StoreName} and {siloCount} silos ready after {started.Elapsed.TotalSeconds:F1} s");
    }
    servers.Add(api);
    var baseUrl = api.HttpUrl;
    await Children.WaitForReadyAsync(api, $"{baseUrl}/health/ready", TimeSpan.FromSeconds(120));
    await WaitForMcpAsync(bare, bareUrl);

    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
    var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    var setup = Stopwatch.StartNew();
    for (var c = 0; c < channelCount; c++)
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, $"{baseUrl}/admin/tenants/default/channels/perf-{c}")
        {
            Content = new StringContent(JsonSerializer.Serialize(new
            {
                type = "webhook",
                settings = new { url = $"{receiver.Url}/hook/perf-{c}", secret },
                rateLimit = new { burst = 10_000, perSecond = 10_000 },
            }), Encoding.UTF8, "application/json"),
        };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var answer = await http.SendAsync(put);
        if (!answer.IsSuccessStatusCode) throw new InvalidOperationException($"PUT channel perf-{c}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
    }
    Console.WriteLine($"{channelCount} webhook channels created over the admin API in {setup.Elapsed.TotalSeconds:F1} s; receiver {receiver.Url}");

    string? accessToken = null, oauthSkipped = null;
    try { accessToken = await OAuthToken.GetAsync(baseUrl, "default", OAuthPassword); }
    catch (Exception e) when (e is HttpRequestException or InvalidOperationException or JsonException or KeyNotFoundException)
    {
        oauthSkipped = e.Message;
    }

    if (serve)
    {
        Console.WriteLine($"serving for {seconds} s (Ctrl+C stops): --url {baseUrl} --key {apiKey} --channels {channelCount}");
        Console.WriteLine("processes: " + string.Join(", ", servers.Select(s => $"{s.Name} pid {s.Id}")));
        Console.WriteLine($"OAuth access token (tenant default): {accessToken ?? "none: " + oauthSkipped}");
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        return 0;
    }

    string Call(string tool, string arguments) => $$$"""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"{{{tool}}}","arguments":{{{arguments}}}}}""";
    var sendLua = """
        function request()
          counter = counter + 1
          return wrk.format(nil, nil, nil, '{"jsonrpc":"2.0","id":' .. counter .. ',"method":"tools/call","params":{"name":"send_notification","arguments":{"channel":"perf-' .. (counter % CHANNELS) .. '","message":"perf ' .. counter .. '","wait_seconds":0}}}')
        end
        """.Replace("CHANNELS", channelCount.ToString(), StringComparison.Ordinal);
    var rows = new List<Row>
    {
        new("bare SDK server: tools/call no-op", bareUrl, apiKey, Call("noop", "{}"), null),
        new("Dovecote tools/list, API key", $"{baseUrl}/mcp", apiKey, """{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}""", null),
        new($"Dovecote list_channels ({channelCount} webhook channels), API key", $"{baseUrl}/mcp", apiKey, Call("list_channels", "{}"), null),
        new($"Dovecote send_notification (wait_seconds 0, round-robin over {channelCount} channels), API key", $"{baseUrl}/mcp", apiKey,
            Call("send_notification", """{"channel":"perf-0","message":"perf verify","wait_seconds":0}"""), sendLua),
    };
    if (accessToken is not null)
    {
        rows.Add(new("Dovecote tools/list, OAuth access token", $"{baseUrl}/mcp", accessToken, """{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}""", null));
        rows.Add(new($"Dovecote list_channels ({channelCount} channels), OAuth access token", $"{baseUrl}/mcp", accessToken, Call("list_channels", "{}"), null));
    }

    // What the servers burn with no calls at all (timers, membership, the silos' statistics), to read the CPU per call against.
    var idle = servers.Where(s => s != bare).ToList();
    var idleBefore = idle.Select(s => s.CpuTime).ToList();
    await Task.Delay(TimeSpan.FromSeconds(5));
    Console.WriteLine($"idle CPU, ms per second over 5 s with no calls: {string.Join(", ", idle.Select((s, i) => $"{s.Name} {(s.CpuTime - idleBefore[i]).TotalMilliseconds / 5:F0}"))} (load {Children.Load()})");
    Console.WriteLine($"wrk -t{threads} -c{connections} -d{seconds}s --latency, one row after the other, each after {warmupSeconds} s unmeasured; a row with any error shows ERRORS, not a speed");
    var results = new List<(Row Row, WrkResult? Result, string? Problem, string Load)>();
    var cpuPerCall = new Dictionary<Row, string>();
    long warmupSends = 0;
    foreach (var row in rows)
    {
        var problem = await VerifyAsync(row);
        if (problem is not null)
        {
            results.Add((row, null, "single call before the load: " + problem, Children.Load()));
            Console.WriteLine($"{row.Name}: {problem}");
            continue;
        }
        var load = Children.Load();
        var headers = new Dictionary<string, string>
        {
            ["Content-Type"] = "application/json",
            ["Accept"] = "application/json, text/event-stream",
            ["Authorization"] = "Bearer " + row.Bearer,
            ["MCP-Protocol-Version"] = Mcp.ProtocolVersion,
        };
        var lua = row.Lua ?? $"wrk.body = [[{row.Body}]]";
        if (warmupSeconds > 0)
        {
            var warm = await Wrk.RunAsync(row.Url, headers, lua, folder, $"row{results.Count + 1}-warmup", threads, connections, warmupSeconds);
            if (row.Lua is not null) warmupSends += warm.Requests;
        }
        var measured = row.Url == bareUrl ? [bare] : servers.Where(s => s != bare).ToList();
        var cpuBefore = measured.Select(s => s.CpuTime).ToList();
        var result = await Wrk.RunAsync(row.Url, headers, lua, folder, $"row{results.Count + 1}", threads, connections, seconds);
        if (double.IsNaN(result.RequestsPerSecond)) problem = "wrk output not understood:\n" + result.Output;
        results.Add((row, result, problem, load));
        cpuPerCall[row] = CpuPerCall(measured, cpuBefore, result.Requests);
        Console.WriteLine($"  {row.Name}: {result.RequestsPerSecond:F0}/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms, {result.Requests} requests, "
            + $"non-2xx {result.Non2xx}, socket errors {result.SocketErrors}, error bodies {result.BodyErrors}, CPU µs per call {cpuPerCall[row]} (load before: {load})");
        if (servers.FirstOrDefault(s => s.HasExited) is { } gone) throw new InvalidOperationException($"{gone.Name} exited:\n{gone.Tail}");
    }

    var baseline = results[0].Result is { Errors: 0 } b && results[0].Problem is null ? b.RequestsPerSecond : double.NaN;
    Console.WriteLine();
    Console.WriteLine($"Dovecote perf, {mode}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; wrk -t{threads} -c{connections} -d{seconds}s from a second process, "
        + $"servers each in their own process on loopback; load average now: {Children.Load()}");
    Console.WriteLine();
    Console.WriteLine("| call | calls/s | p50 | p99 | / bare no-op | errors | server CPU µs per call | load before (1, 5, 15 min) |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    foreach (var (row, result, problem, load) in results)
    {
        if (result is null || problem is not null)
            Console.WriteLine($"| {row.Name} | ERROR | | | | {problem?.Split('\n')[0]} | | {load} |");
        else if (result.Errors > 0)
            Console.WriteLine($"| {row.Name} | ERRORS ({result.RequestsPerSecond:F0}/s answered) | {result.P50Ms:F2} ms | {result.P99Ms:F2} ms | | "
                + $"{result.Errors} of {result.Requests} (non-2xx {result.Non2xx}, socket {result.SocketErrors}, error bodies {result.BodyErrors}) | {cpuPerCall[row]} | {load} |");
        else
            Console.WriteLine($"| {row.Name} | {result.RequestsPerSecond:N0} | {result.P50Ms:F2} ms | {result.P99Ms:F2} ms | {result.RequestsPerSecond / baseline:F2} | 0 of {result.Requests:N0} | {cpuPerCall[row]} | {load} |");
    }
    if (oauthSkipped is not null) Console.WriteLine($"| Dovecote list_channels, OAuth access token | skipped: no token ({oauthSkipped}) | | | | | | |");
    Console.WriteLine();
    // Every send the table answered (the single checks and wrk's counted requests) must arrive; wrk's unanswered tail may add a few.
    var sent = warmupSends + results.Where(r => r.Row.Lua is not null && r.Result is not null).Sum(r => r.Result!.Requests + 1);
    await ReportDeliveriesAsync(receiver, "the table's sends", sent);

    // The open-loop generator, as its own process, at about half of send_notification's closed-loop rate.
    var send = results.FirstOrDefault(r => r.Row.Lua is not null);
    if (!Args.Flag(args, "--no-openloop") && send.Result is { Errors: 0 } sendResult && send.Problem is null)
    {
        var rate = Math.Max(10, Math.Round(sendResult.RequestsPerSecond / 2 / 10) * 10);
        Console.WriteLine();
        Console.WriteLine($"open loop at about half of send_notification's peak: {rate}/s for {openLoopSeconds} s (load before: {Children.Load()})");
        var self = typeof(Program).Assembly.Location;
        var generator = Children.Start(new Child("openloop", "dotnet",
            [self, "openloop", "--rate", rate.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seconds", openLoopSeconds.ToString(),
             "--url", baseUrl, "--key", apiKey, "--channels", channelCount.ToString()]) { ExitsByItself = true });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(openLoopSeconds + 120));
        await generator.WaitForExitAsync(cts.Token);
        Children.Stop(generator);
        Console.WriteLine(generator.Tail);
        // With no errors every call of the generator was accepted: its warm-up and rate × seconds.
        if (generator.ExitCode == 0)
            await ReportDeliveriesAsync(receiver, "the table's and the open loop's sends", sent + OpenLoop.WarmUpCalls + (long)Math.Round(rate * openLoopSeconds));
        else
            Console.WriteLine($"the open loop had errors: webhook deliveries received in all: {receiver.Total:N0}");
    }
    Console.WriteLine($"load average at the end: {Children.Load()}");
    return 0;
}
finally
{
    Children.CleanUp();
}

// The CPU time (user + kernel) the given servers spent during a row, per call answered: what a call costs, less swayed by other work on
// the machine than the rate (contention still inflates it). The silos' are summed; background work (membership, timers) is counted in.
static string CpuPerCall(List<Child> servers, List<TimeSpan> before, long calls)
{
    if (calls == 0) return "";
    string Per(IEnumerable<int> indexes) => (indexes.Sum(i => (servers[i].CpuTime - before[i]).TotalMicroseconds) / calls).ToString("N0");
    var groups = Enumerable.Range(0, servers.Count).GroupBy(i => servers[i].Name.StartsWith("silo-", StringComparison.Ordinal) ? "silos" : servers[i].Name).ToList();
    if (groups.Count == 1) return Per(groups[0]);
    return string.Join(" + ", groups.Select(g => $"{g.Key} {Per(g)}")) + $" = {Per(Enumerable.Range(0, servers.Count))}";
}

// Waits (bounded) until the receiver has at least the given number of webhook deliveries, and says so.
async Task ReportDeliveriesAsync(Receiver receiver, string what, long expected)
{
    var watch = Stopwatch.StartNew();
    while (receiver.Total < expected && watch.Elapsed < TimeSpan.FromSeconds(90)) await Task.Delay(50);
    Console.WriteLine(receiver.Total >= expected
        ? $"webhook deliveries received: {receiver.Total:N0}, every one of {what} ({expected:N0} answered), {watch.Elapsed.TotalSeconds:F1} s after the last call"
        : $"!!! {what}: {expected:N0} answered, only {receiver.Total:N0} webhook deliveries after 90 s !!!");
}

async Task<string?> VerifyAsync(Row row)
{
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
    using var request = new HttpRequestMessage(HttpMethod.Post, row.Url) { Content = new StringContent(row.Body, Encoding.UTF8, "application/json") };
    request.Headers.Accept.ParseAdd("application/json, text/event-stream");
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", row.Bearer);
    request.Headers.Add("MCP-Protocol-Version", Mcp.ProtocolVersion);
    using var response = await http.SendAsync(request);
    return Mcp.Problem((int)response.StatusCode, await response.Content.ReadAsStringAsync());
}

async Task WaitForMcpAsync(Child child, string url)
{
    var watch = Stopwatch.StartNew();
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
    while (true)
    {
        if (child.HasExited) throw new InvalidOperationException($"{child.Name} exited:\n{child.Tail}");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}""", Encoding.UTF8, "application/json") };
            request.Headers.Accept.ParseAdd("application/json, text/event-stream");
            request.Headers.Add("MCP-Protocol-Version", Mcp.ProtocolVersion);
            using var response = await http.SendAsync(request);
            return;
        }
        catch (HttpRequestException) when (watch.Elapsed < TimeSpan.FromSeconds(60)) { await Task.Delay(100); }
    }
}

internal sealed record Row(string Name, string Url, string Bearer, string Body, string? Lua);
