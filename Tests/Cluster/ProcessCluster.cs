using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Dovecote.Grains.Hosting;
using Dovecote.Tests.Fakes;
using Dovecote.Tests.Hosting;
using Dovecote.Tests.OAuth;

namespace Dovecote.Tests.Cluster;

/// <summary>
/// A real cluster of our executables on loopback: Silo and Api processes on a store the harness starts (Azurite or
/// redis-server), webhook channels seeded into tenant default, and a receiver that records what arrives.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    public const string ApiKey = "cluster-key-5c1e-0b7d9a2f4e6c8a1b3d5f";
    public const string Password = "cluster-password-7d3e";

    private readonly IAsyncDisposable _store;
    private readonly string _mode;
    private readonly string _connection;
    private readonly List<DovecoteProcess> _processes = [];
    private readonly string _webhookInstances;

    private ProcessCluster(string mode, string connection, IAsyncDisposable store, FakeWebhookReceiver webhooks, int channels)
    {
        (_mode, _connection, _store, Webhooks) = (mode, connection, store, webhooks);
        var endpoints = Enumerable.Range(0, channels).Select(i => (Id: $"c{i}", Endpoint: webhooks.CreateEndpoint())).ToList();
        Channels = [.. endpoints.Select(e => $"webhook-{e.Id}")];
        _webhookInstances = JsonSerializer.Serialize(endpoints.Select(e => new { id = e.Id, url = e.Endpoint.Url, secret = e.Endpoint.Secret }));
    }

    public FakeWebhookReceiver Webhooks { get; }
    public IReadOnlyList<string> Channels { get; }
    public List<DovecoteProcess> Silos { get; } = [];
    public List<DovecoteProcess> Apis { get; } = [];
    public string? PublicUrl { get; private set; }

    /// <summary>New per cluster and plain alphanumeric, so no state of an earlier run is ever read.</summary>
    public string ServiceId { get; } = "proc" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<ProcessCluster> StartAsync(string mode, int channels)
    {
        var webhooks = new FakeWebhookReceiver();
        await webhooks.StartAsync();
        if (mode == ClusteringOptions.Azure)
        {
            var azurite = await AzuriteServer.StartAsync();
            return new ProcessCluster(mode, azurite.ConnectionString, azurite, webhooks, channels);
        }
        var redis = await RedisServer.StartAsync();
        return new ProcessCluster(mode, redis.ConnectionString, redis, webhooks, channels);
    }

    private Dictionary<string, string> Common()
    {
        var environment = ClusterHosts.StoreEnvironment(_mode, _connection, ServiceId);
        environment["Tenants__SendsPerMinute"] = "100000";
        return environment;
    }

    /// <summary>Starts a silo and waits until it reports itself Active.</summary>
    public async Task<DovecoteProcess> StartSiloAsync(string name)
    {
        var environment = Common();
        environment["DOVECOTE_ADVERTISED_IP"] = "127.0.0.1";
        environment["DOVECOTE_SILO_PORT"] = FreePorts.Next().ToString();
        environment["DOVECOTE_GATEWAY_PORT"] = FreePorts.Next().ToString();
        environment["DOVECOTE_SILO_NAME"] = name;
        environment["DOVECOTE_SHUTDOWN_TIMEOUT"] = "00:00:30";
        environment["Membership__ProbeTimeout"] = "00:00:01";
        environment["Delivery__ReminderPeriod"] = "00:00:05";
        environment["Delivery__InitialBackoff"] = "00:00:00.200";
        environment["Delivery__MaxBackoff"] = "00:00:02";
        environment["Delivery__MaxAttempts"] = "100";
        var silo = DovecoteProcess.Start("Silo", environment);
        _processes.Add(silo);
        Silos.Add(silo);
        await silo.WaitUntilReadyAsync($"{silo.HttpUrl}/health/ready");
        return silo;
    }

    /// <summary>Starts an Api (a pure client) and waits until a grain call through it round-trips.</summary>
    public async Task<DovecoteProcess> StartApiAsync()
    {
        var environment = Common();
        environment["DOVECOTE_API_KEYS"] = ApiKey;
        environment["OAUTH_PASSWORD"] = Password;
        environment["WEBHOOK_INSTANCES"] = _webhookInstances;
        foreach (var (key, value) in OAuthTestKeys.Environment) environment[key] = value;
        var url = $"http://127.0.0.1:{FreePorts.Next()}";
        environment["ASPNETCORE_URLS"] = url;
        // One public URL, as behind a load balancer: a code issued through one Api is redeemable through the other.
        PublicUrl ??= url;
        environment["DOVECOTE_PUBLIC_URL"] = PublicUrl;
        var api = DovecoteProcess.Start("Api", environment);
        _processes.Add(api);
        Apis.Add(api);
        await api.WaitUntilReadyAsync($"{api.HttpUrl}/health/ready");
        return api;
    }

    /// <summary>Sends through the Apis in turn until stopped; every answer is recorded.</summary>
    public ClusterLoad StartLoad(int workers) => new(this, workers);

    /// <summary>Every distinct message text that arrived, with how many times.</summary>
    public Dictionary<string, int> ArrivedMessages() => Webhooks.Deliveries
        .Select(d => JsonDocument.Parse(d.Body).RootElement.GetProperty("data").GetProperty("message").GetString()!)
        .GroupBy(m => m).ToDictionary(g => g.Key, g => g.Count());

    public string Logs() => string.Join("\n", _processes.Select((p, i) => $"--- process {i} ---\n{Tail(p.Output)}"));

    private static string Tail(string output) => output.Length > 4000 ? output[^4000..] : output;

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes) await process.DisposeAsync();
        await _store.DisposeAsync();
        await Webhooks.DisposeAsync();
    }
}

/// <summary>One send as the agent saw it.</summary>
public sealed record SendAnswer(string Message, string Api, DateTimeOffset StartedAt, DateTimeOffset AnsweredAt, bool Accepted, string? Error);

/// <summary>Closed-loop <c>send_notification</c> callers spreading messages over the channels and both Apis.</summary>
public sealed class ClusterLoad : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(90) };
    private readonly ProcessCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private int _next;

    public ClusterLoad(ProcessCluster cluster, int workers)
    {
        _cluster = cluster;
        _workers = [.. Enumerable.Range(0, workers).Select(_ => Task.Run(WorkAsync))];
    }

    public ConcurrentQueue<SendAnswer> Answers { get; } = new();

    public int AcceptedCount => Answers.Count(a => a.Accepted);

    /// <summary>Waits until <paramref name="count"/> more sends were accepted than now; fails with the logs after <paramref name="timeout"/>.</summary>
    public async Task WaitForMoreAcceptedAsync(int count, TimeSpan timeout)
    {
        var target = AcceptedCount + count;
        var watch = Stopwatch.StartNew();
        while (AcceptedCount < target)
        {
            Assert.True(watch.Elapsed < timeout, $"only {AcceptedCount} of {target} sends accepted after {timeout}; last errors: "
                + string.Join(" | ", Answers.Where(a => !a.Accepted).TakeLast(3).Select(a => a.Error)) + "\n" + _cluster.Logs());
            await Task.Delay(50, TestContext.Current.CancellationToken); // polling the load's progress
        }
    }

    private async Task WorkAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var n = Interlocked.Increment(ref _next);
            var apis = _cluster.Apis.Where(a => !a.HasExited).ToList();
            var api = apis[n % apis.Count];
            var message = $"m-{n}";
            var started = DateTimeOffset.UtcNow;
            var (accepted, error) = await SendAsync(api.HttpUrl, _cluster.Channels[n % _cluster.Channels.Count], message);
            Answers.Enqueue(new SendAnswer(message, api.HttpUrl, started, DateTimeOffset.UtcNow, accepted, error));
        }
    }

    /// <summary>One tools/call; accepted when the channel's delivery came back with a delivery id (queued, retrying or delivered).</summary>
    private static async Task<(bool Accepted, string? Error)> SendAsync(string apiUrl, string channel, string message)
    {
        using var request = DovecoteProcess.ToolCallRequest($"{apiUrl}/mcp", ProcessCluster.ApiKey, "send_notification",
            new { channel, message, wait_seconds = 0 });
        try
        {
            using var response = await Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) return (false, $"HTTP {(int)response.StatusCode}: {text}");
            var result = DovecoteProcess.ToolCallResult(text);
            if (result.TryGetProperty("isError", out var isError) && isError.GetBoolean())
                return (false, result.GetProperty("content")[0].GetProperty("text").GetString());
            var delivery = result.GetProperty("structuredContent").GetProperty("deliveries")[0];
            return delivery.GetProperty("delivery_id").ValueKind == JsonValueKind.String ? (true, null) : (false, delivery.GetProperty("error").GetString());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
        {
            return (false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    public async Task StopAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _stop.Dispose();
    }
}
