using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dovecote.Grains.Budgets;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Hosting;
using Dovecote.Grains.Interfaces.Budgets;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Microsoft.Extensions.Options;

namespace Dovecote.Bench;

/// <summary>
/// Shared Telegram bot budgets: 200 chats on one bot token, then 200 chats on 20 tokens, against a fake Bot API in this
/// process that enforces 30 accepted per sliding second per token and 1/s per chat after a burst of 3.
/// </summary>
internal static class BudgetLoad
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static async Task RunAsync(int messagesPerChat)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("dovecote-bench-budgets-").FullName;
        try
        {
            await using var fake = await FakeBotApi.StartAsync();
            using var meters = new Meters();
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            var settings = EmbeddedSilo.Settings(dataDirectory);
            settings["TELEGRAM_API_BASE_URL"] = fake.Url;
            builder.Configuration.AddInMemoryCollection(settings);
            builder.AddDovecoteSilo();
            using var host = builder.Build();
            await host.StartAsync();
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            var perBot = host.Services.GetRequiredService<IOptions<BudgetOptions>>().Value.TelegramBotPerSecond;
            var run = Guid.NewGuid().ToString("N")[..8];

            Console.WriteLine($"Dovecote shared-budget benchmark, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, "
                + $"Budgets:TelegramBotPerSecond {perBot}, {messagesPerChat} messages per chat, fake Bot API at {fake.Url}");
            var rows = new List<string>();
            var breakdowns = new List<string>();
            foreach (var (name, tokens) in new[] { ("A: 200 chats, 1 bot", 1), ("B: 200 chats, 20 bots (10 chats each)", 20) })
            {
                var (row, breakdown) = await ScenarioAsync(grains, fake, meters, $"{run}{(char)('a' + rows.Count)}", name, 200, tokens, messagesPerChat);
                rows.Add(row);
                breakdowns.Add($"{name}: {breakdown}");
            }
            Console.WriteLine();
            Console.WriteLine("| scenario | messages | seconds | delivered/s | max in any 1 s per bot | 429s | budget calls | calls per delivery |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var row in rows) Console.WriteLine(row);
            Console.WriteLine();
            Console.WriteLine("Budget calls (budget=telegram-bot) by call:");
            foreach (var breakdown in breakdowns) Console.WriteLine($"- {breakdown}");
            await host.StopAsync();
        }
        finally
        {
            try { Directory.Delete(dataDirectory, recursive: true); }
            catch (IOException e) { Console.Error.WriteLine($"could not remove {dataDirectory}: {e.Message}"); }
        }
    }

    private static async Task<(string Row, string Breakdown)> ScenarioAsync(
        IGrainFactory grains, FakeBotApi fake, Meters meters, string suffix, string name, int chats, int tokenCount, int perChat)
    {
        var tenant = $"bench-budgets-{suffix}";
        using var entered = TenantContext.Enter(tenant);
        var tokens = Enumerable.Range(0, tokenCount).Select(t => $"{700000 + t}:bench{suffix}tok{t}").ToArray();
        var channels = new IChannelGrain[chats];
        for (var c = 0; c < chats; c++)
        {
            var id = $"tg-{c}";
            channels[c] = grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, id));
            await channels[c].ConfigureAsync(new ChannelConfig(id, true, new TelegramSettings(tokens[c % tokenCount], (100_000 + c).ToString())));
        }

        var total = chats * perChat;
        var (delivered, failed) = (meters.Delivered, meters.Failed);
        var callsBefore = meters.BudgetCalls();
        var (acceptedBefore, limitedBefore) = (fake.Accepted, fake.RateLimited);
        var stopwatch = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, total).Select(i =>
            channels[i % chats].EnqueueAsync(new Notification($"budget bench {suffix} message {i}"), null)));
        if (results.FirstOrDefault(r => !r.Accepted) is { } refused) throw new InvalidOperationException($"enqueue refused: {refused.Error}");
        while (meters.Delivered - delivered + (meters.Failed - failed) < total)
        {
            if (stopwatch.Elapsed > Timeout)
                throw new TimeoutException($"{name}: only {meters.Delivered - delivered} of {total} delivered "
                    + $"({meters.Failed - failed} failed, {fake.Accepted - acceptedBefore} accepted by the fake) after {Timeout.TotalMinutes} min");
            await Task.Delay(10);
        }
        stopwatch.Stop();
        await Task.Delay(TimeSpan.FromSeconds(2)); // the channels give back their unused slots once their outboxes are empty
        var gotDelivered = meters.Delivered - delivered;
        var gotFailed = meters.Failed - failed;
        var calls = meters.BudgetCalls().Select(c => (c.Key, Count: c.Value - callsBefore.GetValueOrDefault(c.Key))).Where(c => c.Count > 0).ToArray();
        var callTotal = calls.Sum(c => c.Count);
        var maxWindow = tokens.Max(t => fake.MaxAcceptedInAnyWindow(t, TimeSpan.FromSeconds(1)));
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var row = $"| {name} | {total:N0} | {seconds:F2} | {gotDelivered / seconds:F1} | {maxWindow} | {fake.RateLimited - limitedBefore} | "
            + $"{callTotal:N0} | {(double)callTotal / Math.Max(1, gotDelivered):F2} |";
        if (gotFailed > 0) row += $" ({gotFailed} failed)";
        Console.WriteLine(row);
        return (row, string.Join(", ", calls.OrderByDescending(c => c.Count).Select(c => $"{c.Key} {c.Count:N0}")));
    }

    /// <summary>The silo's deliveries and budget-grain calls, read from its meters in this process.</summary>
    private sealed class Meters : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _budgetCalls = new();
        private long _delivered;
        private long _failed;

        public Meters()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if ((instrument.Meter.Name == BudgetMetrics.MeterName && instrument.Name == "dovecote.budget.calls")
                    || (instrument.Meter.Name == DeliveryMetrics.MeterName && instrument.Name == "dovecote.deliveries"))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                if (instrument.Name == "dovecote.deliveries")
                {
                    foreach (var tag in tags)
                    {
                        if (tag.Key != "outcome") continue;
                        if (tag.Value as string == "delivered") Interlocked.Add(ref _delivered, value);
                        else if (tag.Value as string == "failed") Interlocked.Add(ref _failed, value);
                    }
                    return;
                }
                string? budget = null, call = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "budget") budget = tag.Value as string;
                    else if (tag.Key == "call") call = tag.Value as string;
                }
                if (budget == BudgetKeys.TelegramBot && call is not null) _budgetCalls.AddOrUpdate(call, value, (_, old) => old + value);
            });
            _listener.Start();
        }

        public long Delivered => Interlocked.Read(ref _delivered);

        public long Failed => Interlocked.Read(ref _failed);

        public Dictionary<string, long> BudgetCalls() => new(_budgetCalls);

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>
    /// A minimal Telegram Bot API: <c>POST /bot{token}/sendMessage</c>. Accepts at most 30 per sliding second per token and
    /// 1/s per chat after a burst of 3; anything over gets Telegram's 429. Records every accept's time per token.
    /// </summary>
    private sealed class FakeBotApi : IAsyncDisposable
    {
        private const int PerBot = 30;
        private const double ChatBurst = 3, ChatPerSecond = 1;
        private const string TooMany = """{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}""";

        private readonly WebApplication _app;
        private readonly Lock _lock = new();
        private readonly Dictionary<string, List<long>> _accepts = [];
        private readonly Dictionary<string, (double Tokens, long At)> _chats = [];
        private long _messageId;
        private int _accepted;
        private int _rateLimited;

        private FakeBotApi(WebApplication app) => _app = app;

        public string Url { get; private set; } = "";

        public int Accepted => Volatile.Read(ref _accepted);

        public int RateLimited => Volatile.Read(ref _rateLimited);

        public static async Task<FakeBotApi> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var fake = new FakeBotApi(builder.Build());
            fake._app.MapPost("/bot{token}/sendMessage", fake.SendMessageAsync);
            await fake._app.StartAsync();
            fake.Url = fake._app.Urls.First();
            return fake;
        }

        private async Task<IResult> SendMessageAsync(string token, HttpRequest request)
        {
            JsonNode? body;
            try { body = await JsonNode.ParseAsync(request.Body); }
            catch (JsonException) { body = null; }
            var chat = body?["chat_id"]?.ToJsonString().Trim('"');
            var text = body?["text"]?.GetValue<string>();
            if (string.IsNullOrEmpty(chat) || string.IsNullOrEmpty(text))
                return Results.Content("""{"ok":false,"error_code":400,"description":"Bad Request: chat_id or text is empty"}""", "application/json", statusCode: 400);

            long id;
            lock (_lock)
            {
                var now = Stopwatch.GetTimestamp();
                var accepts = CollectionsMarshal.GetValueRefOrAddDefault(_accepts, token, out _) ??= [];
                var windowStart = now - Stopwatch.Frequency; // (now - 1 s, now]
                var inWindow = 0;
                for (var i = accepts.Count - 1; i >= 0 && accepts[i] > windowStart; i--) inWindow++;
                var chatKey = token + "\n" + chat;
                var (tokens, at) = _chats.TryGetValue(chatKey, out var bucket) ? bucket : (ChatBurst, now);
                tokens = Math.Min(ChatBurst, tokens + (double)(now - at) / Stopwatch.Frequency * ChatPerSecond);
                if (inWindow >= PerBot || tokens < 1)
                {
                    _chats[chatKey] = (tokens, now);
                    _rateLimited++;
                    return Results.Content(TooMany, "application/json", statusCode: 429);
                }
                _chats[chatKey] = (tokens - 1, now);
                accepts.Add(now);
                _accepted++;
                id = ++_messageId;
            }
            var result = new JsonObject
            {
                ["ok"] = true,
                ["result"] = new JsonObject
                {
                    ["message_id"] = id,
                    ["chat"] = new JsonObject { ["id"] = long.TryParse(chat, out var numeric) ? JsonValue.Create(numeric) : JsonValue.Create(chat) },
                    ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                    ["text"] = text,
                },
            };
            return Results.Content(result.ToJsonString(), "application/json");
        }

        /// <summary>The most accepts of <paramref name="token"/> in one half-open window [t, t + window), over all t.</summary>
        public int MaxAcceptedInAnyWindow(string token, TimeSpan window)
        {
            long[] times;
            lock (_lock) times = _accepts.TryGetValue(token, out var list) ? [.. list] : [];
            var length = (long)(window.TotalSeconds * Stopwatch.Frequency);
            var best = 0;
            for (int first = 0, last = 0; last < times.Length; last++)
            {
                while (times[last] - times[first] >= length) first++;
                best = Math.Max(best, last - first + 1);
            }
            return best;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}
