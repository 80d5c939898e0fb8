using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

using Dovecote.Bench.Shared;

namespace Dovecote.Perf;

/// <summary>
/// An open-loop load generator: send_notification (wait_seconds 0, round-robin over the channels) started by the clock at
/// t0 + i/rate whatever earlier calls are doing, each call's latency counted from its scheduled start, so queueing shows.
/// Usage: openloop --rate 300 --seconds 10 --url http://127.0.0.1:PORT[/mcp] --key KEY [--channels 200] [--prefix perf-]
/// </summary>
internal static class OpenLoop
{
    /// <summary>Closed-loop calls before the measured ones (connections, JIT); sends like the others.</summary>
    public const int WarmUpCalls = 64;

    public static async Task<int> RunAsync(string[] args)
    {
        var rate = Args.Double(args, "--rate", 300);
        var seconds = Args.Double(args, "--seconds", 10);
        var url = Args.Text(args, "--url", "") is { Length: > 0 } u ? u : throw new ArgumentException("--url is required");
        if (!url.EndsWith("/mcp", StringComparison.Ordinal)) url = url.TrimEnd('/') + "/mcp";
        var key = Args.Text(args, "--key", "") is { Length: > 0 } k ? k : throw new ArgumentException("--key is required");
        var channels = Args.Int(args, "--channels", 200);
        var prefix = Args.Text(args, "--prefix", "perf-");

        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 10_000, // a new connection whenever every open one is busy: nothing waits for a free one but the server
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        })
        { Timeout = TimeSpan.FromSeconds(60) };

        var run = Guid.NewGuid().ToString("N")[..8];
        async Task<string?> CallAsync(long i)
        {
            var body = $$"""{"jsonrpc":"2.0","id":{{i}},"method":"tools/call","params":{"name":"send_notification","arguments":{"channel":"{{prefix}}{{(i % channels + channels) % channels}}","message":"open loop {{run}} {{i}}","wait_seconds":0""" + "}}}";
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Accept.ParseAdd("application/json, text/event-stream");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            request.Headers.Add("MCP-Protocol-Version", Mcp.ProtocolVersion);
            try
            {
                using var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                return Mcp.Problem((int)response.StatusCode, text);
            }
            catch (HttpRequestException e) { return "http: " + e.Message; }
            catch (TaskCanceledException) { return "timeout"; }
        }

        // Warm-up, closed loop, not counted: connections, JIT.
        var warm = await Task.WhenAll(Enumerable.Range(0, WarmUpCalls).Select(i => CallAsync(-1 - i)));
        if (warm.FirstOrDefault(p => p is not null) is { } warmProblem) Console.WriteLine($"warm-up problem: {warmProblem}");

        var total = (long)Math.Round(rate * seconds);
        var latencies = new double[total];
        var problems = new string?[total];
        var calls = new Task[total];
        var frequency = (double)Stopwatch.Frequency;
        var t0 = Stopwatch.GetTimestamp();
        var maxLag = 0.0;
        for (long i = 0; i < total; i++)
        {
            var scheduled = t0 + (long)(i / rate * frequency);
            var wait = (scheduled - Stopwatch.GetTimestamp()) / frequency;
            if (wait > 0.002) await Task.Delay(TimeSpan.FromSeconds(wait - 0.001));
            while (Stopwatch.GetTimestamp() < scheduled) Thread.SpinWait(20);
            maxLag = Math.Max(maxLag, (Stopwatch.GetTimestamp() - scheduled) / frequency);
            var n = i;
            calls[n] = Task.Run(async () =>
            {
                problems[n] = await CallAsync(n);
                latencies[n] = (Stopwatch.GetTimestamp() - scheduled) / frequency * 1000;
            });
        }
        var lastStart = (Stopwatch.GetTimestamp() - t0) / frequency;
        await Task.WhenAll(calls);
        var lastDone = (Stopwatch.GetTimestamp() - t0) / frequency;

        var ok = latencies.Where((_, i) => problems[i] is null).Order().ToArray();
        var all = latencies.Order().ToArray();
        double P(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * q))];
        var errors = problems.Count(p => p is not null);
        Console.WriteLine($"open loop send_notification: target {rate:F0}/s for {seconds:F0} s = {total:N0} calls to {url}, load {Children.Load()}");
        Console.WriteLine($"| target/s | started/s | completed/s | p50 ms | p90 ms | p99 ms | max ms | errors | max start lag ms |");
        Console.WriteLine($"|---|---|---|---|---|---|---|---|---|");
        Console.WriteLine($"| {rate:F0} | {total / lastStart:F0} | {(total - errors) / lastDone:F0} | {P(all, 0.5):F1} | {P(all, 0.9):F1} | {P(all, 0.99):F1} | "
            + $"{(all.Length == 0 ? double.NaN : all[^1]):F1} | {errors} | {maxLag * 1000:F1} |");
        Console.WriteLine($"(latency from each call's scheduled start, all calls; started/s = calls / time of the last start; completed/s = successful calls / time of the last answer)");
        foreach (var group in problems.Where(p => p is not null).GroupBy(p => p!.Length > 160 ? p[..160] : p).OrderByDescending(g => g.Count()).Take(5))
            Console.WriteLine($"  {group.Count()} x {group.Key}");
        return errors == 0 ? 0 : 1;
    }
}

/// <summary>The JSON-RPC conventions the checks share.</summary>
internal static class Mcp
{
    /// <summary>Sent on every call; a stateless server then needs no initialize.</summary>
    public const string ProtocolVersion = "2025-11-25";

    /// <summary>Null when the answer is a JSON-RPC result that is no tool error; otherwise what is wrong.</summary>
    public static string? Problem(int status, string body)
    {
        var snippet = (body.Length > 300 ? body[..300] : body).ReplaceLineEndings(" ");
        if (status != 200) return $"HTTP {status}: {snippet}";
        // A stateless answer is one SSE event (data: {...}) or a plain JSON body.
        var json = body.Split('\n').FirstOrDefault(l => l.StartsWith("data:", StringComparison.Ordinal)) is { } data ? data[5..].Trim() : body.Trim();
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var error)) return "JSON-RPC error: " + error.GetRawText();
            if (!root.TryGetProperty("result", out var result)) return "no result: " + snippet;
            if (result.TryGetProperty("isError", out var isError) && isError.ValueKind == System.Text.Json.JsonValueKind.True) return "tool error: " + snippet;
            return null;
        }
        catch (System.Text.Json.JsonException) { return "not JSON: " + snippet; }
    }
}

internal static class Args
{
    public static string Text(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public static int Int(string[] args, string name, int fallback) => int.TryParse(Text(args, name, ""), out var v) ? v : fallback;

    public static double Double(string[] args, string name, double fallback) =>
        double.TryParse(Text(args, name, ""), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : fallback;

    public static bool Flag(string[] args, string name) => args.Contains(name);
}
