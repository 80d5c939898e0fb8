using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Dovecote.Api;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Conformance;

namespace Dovecote.Bench;

/// <summary>
/// Closed-loop HTTP load from this process against the real Api (embedded silo) on loopback: send_notification
/// (durable accept, wait_seconds 0) spread over 100 channels, next to the no-op test_simple_text tool of the same server;
/// and list_channels with an API key next to an OAuth access token (JWT decryption plus the grant and token checks).
/// </summary>
public static class McpLoad
{
    private const string ApiKey = "bench-key-f00d-2c7e9a1b5d3f8e60a4c2";
    private const int Channels = 100;

    public static async Task RunAsync(int seconds, int connections)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("dovecote-mcp-bench-").FullName;
        await using var receiver = await Receiver.StartAsync();
        var app = DovecoteApi.Create(
        [
            "--urls=http://127.0.0.1:0",
            $"--DOVECOTE_DATA_DIR={dataDirectory}",
            $"--DOVECOTE_SILO_PORT={Dovecote.Bench.Shared.Children.FreePort()}",
            $"--DOVECOTE_GATEWAY_PORT={Dovecote.Bench.Shared.Children.FreePort()}",
            $"--DOVECOTE_API_KEYS={ApiKey}",
            $"--OAUTH_PASSWORD={OAuthSignIn.Password}",
            "--DOVECOTE_ALLOW_PRIVATE_TARGETS=true",
            "--Delivery:OutboxCapacity=100000",
            "--Logging:LogLevel:Default=Warning",
        ], api => api.MapConformanceEndpoint()); // the no-op fixture tools at /conformance/mcp (linked from Tests/Conformance)
        await app.StartAsync();
        var baseUrl = app.Urls.First();
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        using (TenantContext.Enter("default"))
            for (var c = 0; c < Channels; c++)
                await grains.GetGrain<IChannelGrain>(GrainKeys.Channel("default", $"bench-{c}"))
                    .ConfigureAsync(new ChannelConfig(
                        $"bench-{c}",
                        true,
                        new WebhookSettings($"{receiver.Url}/bench-{c}", "whsec_" + Convert.ToBase64String(new byte[32])),
                        new RateLimitPolicy(10_000, 10_000)));

        Console.WriteLine(
            $"MCP load, {Environment.ProcessorCount} cores, {connections} connections, {seconds} s each, client and server in one process on loopback");
        Console.WriteLine("| tool | calls/s | p50 ms | p99 ms | errors |");
        Console.WriteLine("|---|---|---|---|---|");
        await MeasureAsync(
            "no-op (test_simple_text)",
            $"{baseUrl}{ConformanceEndpoint.Route}",
            _ => """{"name":"test_simple_text","arguments":{}}""",
            ApiKey,
            seconds,
            connections);
        await MeasureAsync(
            "send_notification (wait_seconds 0)",
            $"{baseUrl}/mcp",
            i => $$$"""{"name":"send_notification","arguments":{"channel":"bench-{{{i % Channels}}}","message":"load test {{{i}}}","wait_seconds":0}}""",
            ApiKey,
            seconds,
            connections);

        var (accessToken, signIn) = await OAuthSignIn.TimeAsync(baseUrl, rounds: 20);
        const string listChannels = """{"name":"list_channels","arguments":{}}""";
        await MeasureAsync("list_channels, API key", $"{baseUrl}/mcp", _ => listChannels, ApiKey, seconds, connections);
        await MeasureAsync("list_channels, OAuth access token", $"{baseUrl}/mcp", _ => listChannels, accessToken, seconds, connections);
        Console.WriteLine();
        Console.WriteLine(
            $"OAuth sign-in (register, consent page, password, code, token; sequential, 20 rounds): mean {signIn.Mean:F1} ms, max {signIn.Max:F1} ms");

        await app.StopAsync();
        await app.DisposeAsync();
        Directory.Delete(dataDirectory, recursive: true);
    }

    private static async Task MeasureAsync(string label, string url, Func<int, string> call, string bearer, int seconds, int connections)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections });
        async Task<bool> OnceAsync(int i)
        {
            var body = $$"""{"jsonrpc":"2.0","id":{{i}},"method":"tools/call","params":""" + call(i) + "}";
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Accept.ParseAdd("application/json, text/event-stream");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return response.IsSuccessStatusCode && !text.Contains("\"isError\":true") && !text.Contains("\"error\":{");
        }

        for (var i = 0; i < 200; i++) await OnceAsync(i); // warm up
        var latencies = new List<double>[connections];
        var errors = 0;
        var next = 0;
        var stopwatch = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async worker =>
        {
            latencies[worker] = [];
            while (stopwatch.Elapsed < end)
            {
                var started = Stopwatch.GetTimestamp();
                if (!await OnceAsync(Interlocked.Increment(ref next))) Interlocked.Increment(ref errors);
                latencies[worker].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        Console.WriteLine(
            $"| {label} | {all.Length / stopwatch.Elapsed.TotalSeconds:N0} | {all[all.Length / 2]:F2} | {all[(int)(all.Length * 0.99)]:F2} | {errors} |");
    }
}
