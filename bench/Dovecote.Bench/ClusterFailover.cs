using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dovecote.Grains.Hosting;
using Orleans.Configuration;

using Dovecote.Bench.Shared;

namespace Dovecote.Bench;

/// <summary>
/// Cluster mode as separate processes on loopback: a store (Azurite, or redis-server with --store redis), N Silo processes,
/// two Api processes (pure Orleans clients) and a local webhook receiver. Measures send_notification throughput on 1 and 3
/// silos, then kills silo-2 and then silo-1 under load (SIGKILL), each followed by a replacement, and measures how long sends
/// take to come back, the failed calls, the
/// duplicate and missing deliveries, and how long a replacement silo takes to be ready.
/// Usage: cluster [--store azure|redis] [--seconds 20] [--workers 32] [--channels 48] [--logs DIR]
/// </summary>
public static class ClusterFailover
{
    public static async Task RunAsync(string[] args)
    {
        Children.InstallExitHandlers();
        Children.LogDirectory = Arg(args, "--logs", "") is { Length: > 0 } logs ? Path.GetFullPath(logs) : null;
        try
        {
            await using var run = new ClusterRun(new ClusterBenchOptions(
                Arg(args, "--store", "azure"), int.Parse(Arg(args, "--seconds", "20")), int.Parse(Arg(args, "--workers", "32")),
                int.Parse(Arg(args, "--channels", "48"))));
            await run.ExecuteAsync();
        }
        finally
        {
            Children.CleanUp();
        }
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }
}

internal sealed record ClusterBenchOptions(string Store, int Seconds, int Workers, int Channels);

/// <summary>One send_notification call: when it started and ended (ms on the run's clock), and whether it was acknowledged.</summary>
internal sealed record Call(string Channel, string Text, double Start, double End, bool Acked, string? Error);

internal sealed partial class ClusterRun(ClusterBenchOptions options) : IAsyncDisposable
{
    private const string Tenant = "default";
    private const int PostKillSeconds = 40;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _runTag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private readonly string _webhookSecret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly LocalCluster _cluster = new(options.Store);
    private readonly ConcurrentDictionary<string, string> _acked = new(StringComparer.Ordinal); // text -> channel, every phase
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { Timeout = TimeSpan.FromSeconds(45) };
    private HookRecorder? _recorder;

    private HookRecorder Recorder => _recorder!;

    public async Task ExecuteAsync()
    {
        Console.WriteLine($"Dovecote cluster benchmark, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, store {_cluster.StoreName}, "
            + $"{options.Workers} callers, {options.Channels} webhook channels per phase, {options.Seconds} s per load phase");
        await _cluster.StartStoreAsync();
        _recorder = await HookRecorder.StartAsync();

        var setup = Stopwatch.StartNew();
        var first = _cluster.StartSilo();
        await Children.WaitForReadyAsync(first, $"{first.HttpUrl}/health/ready", TimeSpan.FromSeconds(90));
        var apis = Enumerable.Range(1, 2).Select(_ => _cluster.StartApi()).ToList();
        foreach (var api in apis) await Children.WaitForReadyAsync(api, $"{api.HttpUrl}/health/ready", TimeSpan.FromSeconds(90));
        Console.WriteLine($"1 silo and 2 Apis ready after {setup.Elapsed.TotalSeconds:F1} s");
        await AdminAsync(HttpMethod.Put, $"/admin/tenants/{Tenant}", new { displayName = "Bench" });

        var rows = new List<string>();
        var one = await ConfigureChannelsAsync("a");
        rows.Add(await ThroughputAsync(1, one, "a"));

        var more = Enumerable.Range(0, 2).Select(_ => _cluster.StartSilo()).ToList();
        foreach (var silo in more) await Children.WaitForReadyAsync(silo, $"{silo.HttpUrl}/health/ready", TimeSpan.FromSeconds(90));
        await Task.Delay(TimeSpan.FromSeconds(11)); // the Apis refresh their gateway list every 10 s
        var three = await ConfigureChannelsAsync("b"); // activated now, so placed across the 3 silos
        rows.Add(await ThroughputAsync(3, three, "b"));

        Console.WriteLine();
        Console.WriteLine("| silos | seconds | acknowledged sends | accepts/s | delivered/s | p50 ms | p99 ms | failed calls | last delivery after stop |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(row);

        // A silo that hosts channels of the load, then the one that hosts the tenant's shared grains (placed while it was alone).
        await FailoverAsync(three, _cluster.Silos[1]);
        await FailoverAsync(three, _cluster.Silos[0]);
        PrintLoggedExceptions();

        Console.WriteLine();
        var all = _acked.Keys.ToList();
        var (seconds, missing) = await WaitDeliveredAsync(all, TimeSpan.FromSeconds(90));
        if (missing.Count == 0)
            Console.WriteLine($"Every one of the {all.Count:N0} acknowledged messages of the run arrived ({seconds:F1} s after the last check began).");
        else
        {
            Console.WriteLine($"!!! BUG: {missing.Count} of {all.Count:N0} ACKNOWLEDGED MESSAGES NEVER ARRIVED (waited 90 s) !!!");
            foreach (var text in missing.Take(20)) Console.WriteLine($"!!!   missing: {text} on {_acked[text]}");
        }
    }

    private async Task AdminAsync(HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, _cluster.Apis[0].HttpUrl + path)
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _cluster.AdminToken);
        using var response = await _http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Webhook channels bench-{set}-NN on the receiver, with a rate limit far above the load (the webhook default is 10/s).</summary>
    private async Task<string[]> ConfigureChannelsAsync(string set)
    {
        var channels = Enumerable.Range(0, options.Channels).Select(i => $"bench-{set}-{i:D2}").ToArray();
        foreach (var channel in channels)
            await AdminAsync(HttpMethod.Put, $"/admin/tenants/{Tenant}/channels/{channel}", new
            {
                type = "webhook",
                settings = new { url = $"{Recorder.Url}/hook/{channel}", secret = _webhookSecret },
                rateLimit = new { burst = 1000, perSecond = 1000 },
            });
        return channels;
    }

    private async Task<string> ThroughputAsync(int silos, string[] channels, string set)
    {
        var warm = LoadRun.Start(this, channels, $"{set}w", options.Workers);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await warm.StopAsync();
        Track(warm);
        await WaitDeliveredAsync(warm.AckedTexts(), TimeSpan.FromSeconds(30));

        var deliveredBefore = Recorder.Total;
        var started = _clock.Elapsed;
        var run = LoadRun.Start(this, channels, set, options.Workers);
        await Task.Delay(TimeSpan.FromSeconds(options.Seconds));
        var deliveredInWindow = Recorder.Total - deliveredBefore;
        var window = (_clock.Elapsed - started).TotalSeconds;
        await run.StopAsync();
        Track(run);
        var acked = run.Calls.Where(c => c.Acked).ToList();
        var latencies = acked.Select(c => c.End - c.Start).Order().ToArray();
        var (drain, missing) = await WaitDeliveredAsync(run.AckedTexts(), TimeSpan.FromSeconds(60));
        var failed = run.Calls.Count(c => !c.Acked);
        PrintErrors($"{silos} silo(s)", run.Calls);
        var last = missing.Count == 0 ? $"{drain:F1} s" : $"**{missing.Count} missing after 60 s**";
        return $"| {silos} | {window:F1} | {acked.Count:N0} | {acked.Count / window:N0} | {deliveredInWindow / window:N0} | "
            + $"{Percentile(latencies, 0.5):F1} | {Percentile(latencies, 0.99):F1} | {failed} | {last} |";
    }

    private async Task FailoverAsync(string[] channels, Child victim)
    {
        var placement = await LocateAsync(channels);
        var moved = channels.Where(c => placement.GetValueOrDefault(c) == victim.Name).ToHashSet();

        var run = LoadRun.Start(this, channels, "f" + victim.Name, options.Workers);
        await Task.Delay(TimeSpan.FromSeconds(8));
        var kill = _clock.Elapsed.TotalMilliseconds;
        victim.Kill();
        Console.WriteLine($"killed {victim.Name} (SIGKILL) at +{kill / 1000:F1} s, under load; {moved.Count} of {channels.Length} channels lived on it");
        await Task.Delay(TimeSpan.FromSeconds(8));
        var replacementWatch = Stopwatch.StartNew();
        var replacement = _cluster.StartSilo();
        var ready = Children.WaitForReadyAsync(replacement, $"{replacement.HttpUrl}/health/ready", TimeSpan.FromSeconds(90), replacementWatch);
        while (_clock.Elapsed.TotalMilliseconds < kill + PostKillSeconds * 1000) await Task.Delay(100);
        await run.StopAsync();
        Track(run);
        var readyAfter = await ready;

        var calls = run.Calls.ToList();
        var afterKill = calls.Where(c => c.Start >= kill).ToList();
        double? Back(string channel) => afterKill.Where(c => c.Channel == channel && c.Acked).Select(c => (double?)(c.End - kill)).Min();
        var back = channels.ToDictionary(c => c, Back);
        string Worst(IEnumerable<string> set)
        {
            var values = set.Select(c => back[c]).ToList();
            if (values.Count == 0) return "n/a";
            return values.Any(v => v is null) ? $"{values.Count(v => v is null)} channel(s) never" : $"{values.Max()!.Value / 1000:F2} s";
        }
        var ackEnds = calls.Where(c => c.Acked && c.End >= kill - 1000).Select(c => c.End).Order().ToArray();
        var gaps = ackEnds.Zip(ackEnds.Skip(1), (a, b) => (From: a, Length: b - a)).ToList();
        var gap = gaps.Select(g => g.Length).DefaultIfEmpty(0).Max();
        var lastPause = gaps.Where(g => g.Length > 1000).Select(g => (double?)(g.From + g.Length - kill)).Max();
        var timeline = string.Join(" ", Enumerable.Range(-2, (PostKillSeconds + 6) / 2).Select(b =>
            calls.Count(c => c.Acked && c.End >= kill + b * 2000 && c.End < kill + (b + 1) * 2000)));
        var inFlight = calls.Where(c => c.Start < kill && c.End > kill).Select(c => c.End - c.Start).DefaultIfEmpty(0).Max();
        var failedBefore = calls.Count(c => !c.Acked && c.End < kill);
        var failedAfter = calls.Count(c => !c.Acked && c.End >= kill);

        // Duplicates: every text is unique, so a second arrival of one is a duplicate; the same webhook id again is a redelivery of one
        // accepted message, a new webhook id is a second accept of the same call (an Api retry after a lost answer).
        long deliveries = 0, sameId = 0, otherId = 0, unackedDelivered = 0;
        void CountArrivals()
        {
            (deliveries, sameId, otherId, unackedDelivered) = (0, 0, 0, 0);
            foreach (var call in calls)
            {
                var ids = Recorder.Deliveries(call.Text);
                if (ids.Count == 0) continue;
                deliveries += ids.Count;
                var distinct = ids.Distinct().Count();
                sameId += ids.Count - distinct;
                otherId += distinct - 1;
                if (!call.Acked) unackedDelivered++;
            }
        }
        CountArrivals();
        var (drain, missing) = await WaitDeliveredAsync(run.AckedTexts(), TimeSpan.FromSeconds(90));
        if (drain > 0 || missing.Count > 0) CountArrivals(); // arrivals counted again once everything is in

        PrintErrors("failover", calls);
        var duplicates = sameId + otherId;
        Console.WriteLine();
        Console.WriteLine($"| failover: 3 silos, kill -9 {victim.Name} under load | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| channels that lived on the killed silo | {moved.Count} of {channels.Length} |");
        Console.WriteLine($"| kill → first acked send (issued after the kill) on a moved channel, fastest | {Best(moved, back)} |");
        Console.WriteLine($"| kill → every moved channel acked again | {Worst(moved)} |");
        Console.WriteLine($"| kill → every channel acked again | {Worst(channels)} |");
        Console.WriteLine($"| kill → every surviving-silo channel acked again | {Worst(channels.Except(moved))} |");
        Console.WriteLine($"| longest pause with no acknowledged send at all | {gap / 1000:F2} s |");
        var pauseEnd = lastPause is { } p ? $"{p / 1000:F2} s" : "no such pause";
        Console.WriteLine($"| kill → end of the last pause over 1 s with no acknowledged send | {pauseEnd} |");
        Console.WriteLine($"| slowest call in flight at the kill | {inFlight / 1000:F2} s |");
        Console.WriteLine("| calls / acknowledged / failed before kill / failed after kill | "
            + $"{calls.Count:N0} / {calls.Count(c => c.Acked):N0} / {failedBefore} / {failedAfter} |");
        Console.WriteLine($"| deliveries of this phase's messages | {deliveries:N0} |");
        Console.WriteLine($"| duplicates (same webhook id / new webhook id) | {duplicates} ({sameId} / {otherId}) |");
        Console.WriteLine($"| duplicates per 1,000 deliveries | {(deliveries == 0 ? 0 : duplicates * 1000.0 / deliveries):F2} |");
        Console.WriteLine($"| failed calls whose message arrived anyway | {unackedDelivered} |");
        Console.WriteLine($"| acknowledged but missing | {(missing.Count == 0 ? "0" : $"**{missing.Count} (BUG)**")} |");
        Console.WriteLine($"| replacement silo start → /health/ready 200 | {readyAfter.TotalSeconds:F2} s |");
        Console.WriteLine();
        Console.WriteLine($"acknowledged sends per 2 s, from 4 s before the kill: {timeline}");
        Console.WriteLine($"load ran {PostKillSeconds} s past the kill; the replacement silo was started 8 s after it");
    }

    private static void PrintLoggedExceptions()
    {
        Console.WriteLine();
        Console.WriteLine("Exceptions the processes logged (names only):");
        foreach (var child in Children.Started.Where(c => c.Name.StartsWith("silo") || c.Name.StartsWith("api")))
        {
            var names = child.Lines.SelectMany(l => ExceptionName().Matches(l).Select(m => m.Value)).GroupBy(n => n).OrderByDescending(g => g.Count())
                .Select(g => $"{g.Key} ×{g.Count()}").Take(6).ToList();
            if (names.Count > 0) Console.WriteLine($"  {child.Name}: {string.Join(", ", names)}");
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\b[A-Z][A-Za-z]*Exception\b")]
    private static partial System.Text.RegularExpressions.Regex ExceptionName();

    private static string Best(HashSet<string> set, Dictionary<string, double?> back)
    {
        var values = set.Select(c => back[c]).OfType<double>().ToList();
        return values.Count == 0 ? "n/a" : $"{values.Min() / 1000:F2} s";
    }

    /// <summary>Which silo hosts each channel grain (and the tenant's shared grains), from the management grain over a client of our own.</summary>
    private async Task<Dictionary<string, string>> LocateAsync(string[] channels)
    {
        var result = new Dictionary<string, string>();
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            var clustering = new ClusteringOptions
            {
                Mode = _cluster.Mode,
                AzureStorageConnection = _cluster.Mode == ClusteringOptions.Azure ? _cluster.StoreConnection : null,
                RedisConnection = _cluster.Mode == ClusteringOptions.Redis ? _cluster.StoreConnection : null,
            };
            builder.UseOrleansClient(client => client
                .Configure<ClusterOptions>(o => (o.ServiceId, o.ClusterId) = (_cluster.ServiceId, _cluster.ClusterId))
                .UseDovecoteClusterStore(clustering));
            using var host = builder.Build();
            await host.StartAsync();
            var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
            var statistics = await management.GetDetailedGrainStatistics();
            var byPort = _cluster.Silos.Where(s => !s.HasExited).ToDictionary(s => s.SiloPort, s => s.Name);
            var wanted = channels.ToDictionary(c => $"{Tenant}/{c}", c => c);
            foreach (var statistic in statistics)
            {
                var silo = byPort.GetValueOrDefault(statistic.SiloAddress.Endpoint.Port, statistic.SiloAddress.ToString());
                if (wanted.TryGetValue(statistic.GrainId.Key.ToString() ?? "", out var channel) && statistic.GrainType.Contains("Channel"))
                    result[channel] = silo;
            }
            var shared = statistics
                .Where(s => s.GrainType.StartsWith("Dovecote.", StringComparison.Ordinal) && !s.GrainType.EndsWith("ChannelGrain", StringComparison.Ordinal))
                .GroupBy(s => byPort.GetValueOrDefault(s.SiloAddress.Endpoint.Port, "?"))
                .OrderBy(g => g.Key)
                .Select(g => $"{g.Key}: " + string.Join(", ", g.GroupBy(s => ShortType(s.GrainType)).Select(t => $"{t.Key} ×{t.Count()}")));
            var perSilo = result.GroupBy(p => p.Value).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}");
            Console.WriteLine("channel grains per silo: " + string.Join(", ", perSilo));
            Console.WriteLine("other Dovecote grains per silo: " + string.Join("; ", shared));
            await host.StopAsync();
        }
        catch (Exception e)
        {
            Console.WriteLine($"could not locate the channel grains ({e.GetType().Name}: {e.Message}); moved channels are unknown");
        }
        return result;
    }

    private static string ShortType(string type)
    {
        var name = type.Split(',')[0];
        return name[(name.LastIndexOf('.') + 1)..];
    }

    private void Track(LoadRun run)
    {
        foreach (var call in run.Calls.Where(c => c.Acked)) _acked[call.Text] = call.Channel;
    }

    private async Task<(double Seconds, List<string> Missing)> WaitDeliveredAsync(IEnumerable<string> texts, TimeSpan timeout)
    {
        var pending = texts.ToList();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            pending.RemoveAll(Recorder.Has);
            if (pending.Count == 0 || watch.Elapsed > timeout) return (watch.Elapsed.TotalSeconds, pending);
            await Task.Delay(50);
        }
    }

    private static void PrintErrors(string phase, IEnumerable<Call> calls)
    {
        var errors = calls.Where(c => !c.Acked).GroupBy(c => c.Error ?? "?").OrderByDescending(g => g.Count()).Take(5).ToList();
        foreach (var error in errors) Console.WriteLine($"  {phase}: {error.Count()} × {error.Key}");
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * p))];

    public double Now => _clock.Elapsed.TotalMilliseconds;

    /// <summary>One send_notification over plain JSON-RPC, wait_seconds 0, through the given Api.</summary>
    public async Task<Call> SendAsync(int api, string channel, string text)
    {
        var start = Now;
        var body = JsonSerializer.Serialize(new
        {
            jsonrpc = "2.0",
            id = 1,
            method = "tools/call",
            @params = new { name = "send_notification", arguments = new { channel, message = text, wait_seconds = 0 } },
        });
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{_cluster.Apis[api].HttpUrl}/mcp")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Accept.ParseAdd("application/json, text/event-stream");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _cluster.ApiKey);
            request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
            using var response = await _http.SendAsync(request);
            var answer = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) return new Call(channel, text, start, Now, false, $"HTTP {(int)response.StatusCode}");
            var json = answer.TrimStart().StartsWith('{')
                ? answer
                : answer.Split('\n').Where(l => l.StartsWith("data:")).Select(l => l["data:".Length..].Trim()).Last(l => l.Length > 0);
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.TryGetProperty("error", out var error))
                return new Call(channel, text, start, Now, false, "JSON-RPC error: " + Short(error.ToString()));
            var result = document.RootElement.GetProperty("result");
            if (result.TryGetProperty("isError", out var isError) && isError.GetBoolean())
                return new Call(channel, text, start, Now, false, "tool error: " + Short(result.GetProperty("content")[0].GetProperty("text").GetString()));
            var delivery = result.GetProperty("structuredContent").GetProperty("deliveries")[0];
            var acked = delivery.GetProperty("delivery_id").ValueKind == JsonValueKind.String && delivery.GetProperty("status").GetString() != "failed";
            return new Call(channel, text, start, Now, acked, acked ? null : "not accepted: " + Short(delivery.ToString()));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return new Call(channel, text, start, Now, false, e.GetType().Name);
        }
    }

    private static string Short(string? text) => text is null ? "" : text.Length > 140 ? text[..140] + "..." : text;

    public string Text(string prefix, int i) => $"bench {prefix}-{i:D6}-{_runTag}";

    public int ApiCount => _cluster.Apis.Count;

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_recorder is not null) await _recorder.DisposeAsync();
    }
}

/// <summary>Closed-loop callers of send_notification: each round goes over every channel, alternating the Api per round.</summary>
internal sealed class LoadRun
{
    public readonly ConcurrentQueue<Call> Calls = new();
    private volatile bool _stop;
    private Task _workers = Task.CompletedTask;

    public static LoadRun Start(ClusterRun cluster, string[] channels, string prefix, int workers)
    {
        var run = new LoadRun();
        var next = -1;
        run._workers = Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (!run._stop)
            {
                var i = Interlocked.Increment(ref next);
                var api = i / channels.Length % cluster.ApiCount;
                var call = await cluster.SendAsync(api, channels[i % channels.Length], cluster.Text(prefix, i));
                run.Calls.Enqueue(call);
                if (!call.Acked) await Task.Delay(100); // a caller pauses after a failure instead of spinning on a refused connection
            }
        })));
        return run;
    }

    public async Task StopAsync()
    {
        _stop = true;
        await _workers;
    }

    public List<string> AckedTexts() => Calls.Where(c => c.Acked).Select(c => c.Text).ToList();
}
