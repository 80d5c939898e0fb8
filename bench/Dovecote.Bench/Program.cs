// Benchmarks on this machine. Usage: dotnet run -c Release --project bench/Dovecote.Bench -- [delivery|mcp] [options]
//   delivery (default): durable accepts and deliveries on the embedded storage (--messages 20000 --channels 1000)
//   mcp: send_notification over HTTP next to a no-op tool on the same server (--seconds 10 --connections 32)
//   hot: accepts into one hot channel, held and delivering (--held 10000 --messages 3000 --concurrency 256)
//   scale: 100,000 configured channels active at once (RSS per grain), then 10,000 of them accepting and delivering
//          (--grains 100000 --channels 10000 --messages-per-channel 5 --concurrency 256)
//   budgets: Telegram chats sharing bot budgets against a rate-limiting fake Bot API (--messages-per-chat 5)
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Dovecote.Grains.Hosting;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.Storage;

if (args.FirstOrDefault() == "cluster")
{
    await Dovecote.Bench.ClusterFailover.RunAsync(args); // Silo and Api processes on Azurite or redis-server, failover under load
    return;
}

if (args.FirstOrDefault() == "budgets")
{
    await Dovecote.Bench.BudgetLoad.RunAsync(ArgValue("--messages-per-chat", 5)); // 200 chats on 1 bot, then on 20 bots
    return;
}

if (args.FirstOrDefault() == "mcp")
{
    await Dovecote.Bench.McpLoad.RunAsync(ArgValue("--seconds", 10), ArgValue("--connections", 32));
    return;
}

var hot = args.FirstOrDefault() == "hot";
var scale = args.FirstOrDefault() == "scale";
var messages = ArgValue("--messages", hot ? 3_000 : 20_000);
var channelCount = ArgValue("--channels", scale ? 10_000 : 1_000);
var concurrency = ArgValue("--concurrency", 256);
var dataDirectory = Directory.CreateTempSubdirectory("dovecote-bench-").FullName;

await using var receiver = await Receiver.StartAsync();
var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var settings = Dovecote.Bench.EmbeddedSilo.Settings(dataDirectory);
settings["Delivery:OutboxCapacity"] = "100000";
builder.Configuration.AddInMemoryCollection(settings);
// Hot mode: room for 10,000 held messages of ~400 stored bytes (the default 4 MiB holds ~10,000 exactly).
if (hot) builder.Configuration["Delivery:OutboxBudgetBytes"] = (16 * 1024 * 1024).ToString();
builder.AddDovecoteSilo();
using var host = builder.Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IGrainFactory>();
var log = host.Services.GetRequiredService<GrainStateLog>();
using var tenant = TenantContext.Enter("bench");
var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
var fast = new RateLimitPolicy(10_000, 10_000);
var held = new RateLimitPolicy(1, 0.0001); // sends one message, then holds the rest: the outbox grows

Console.WriteLine($"Dovecote delivery-core benchmark, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}, data in {dataDirectory}");

if (scale)
{
    await Dovecote.Bench.ScaleLoad.RunAsync(host.Services, log, receiver, (id, policy) => ConfigureAsync(id, policy), fast,
        ArgValue("--grains", 100_000), channelCount, ArgValue("--messages-per-channel", 5), concurrency);
    await host.StopAsync();
    Directory.Delete(dataDirectory, recursive: true);
    return;
}

if (hot)
{
    await HotChannelAsync();
    await host.StopAsync();
    Directory.Delete(dataDirectory, recursive: true);
    return;
}

Console.WriteLine("| scenario | messages | seconds | per second | state writes per fsync |");
Console.WriteLine("|---|---|---|---|---|");

// 1. One channel holding everything: each accept rewrites the whole (growing) outbox.
var one = await ConfigureAsync("one-held", held);
await MeasureAsync("accepts into 1 channel, outbox growing 0 to 1,000", 1_000, i => one);

// 2. Many channels holding everything: accepts only.
var heldChannels = new IChannelGrain[channelCount];
for (var c = 0; c < channelCount; c++) heldChannels[c] = await ConfigureAsync($"held-{c}", held);
await MeasureAsync($"accepts into {channelCount:N0} channels, not delivering", messages, i => heldChannels[i % channelCount]);

// 3. Many channels delivering to a local receiver while accepting.
var many = new IChannelGrain[channelCount];
for (var c = 0; c < channelCount; c++) many[c] = await ConfigureAsync($"many-{c}", fast);
await receiver.WaitForAsync(1 + channelCount, TimeSpan.FromMinutes(2)); // the held channels each sent their first message
receiver.Reset();
var deliveredFrom = Stopwatch.StartNew();
await MeasureAsync($"accepts into {channelCount:N0} channels, delivering", messages, i => many[i % channelCount]);
await receiver.WaitForAsync(messages, TimeSpan.FromMinutes(5));
deliveredFrom.Stop();
Console.WriteLine(
    $"| delivered across {channelCount:N0} channels (first accept to last receipt) | {messages:N0} | "
    + $"{deliveredFrom.Elapsed.TotalSeconds:F2} | {messages / deliveredFrom.Elapsed.TotalSeconds:N0} | |");

await host.StopAsync();
Directory.Delete(dataDirectory, recursive: true);

// One channel taking every accept: what a single agent flooding one destination gets.
async Task HotChannelAsync()
{
    Console.WriteLine($"{concurrency} concurrent callers");
    Console.WriteLine("| scenario | accepted | seconds | accepts per second | refused (full, retried) | log writes per accept | writes per fsync |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    // Held: the outbox only grows (its first message is sent at once; the rest wait), so a full outbox is an error here.
    var heldCount = ArgValue("--held", 10_000);
    var held1 = await ConfigureAsync("hot-held", held);
    await HotAsync($"1 channel, not delivering, pending 0 to {heldCount:N0}", held1, heldCount, retryFull: false);
    // Delivering: accepts race the drain, and a full outbox is backpressure the callers retry after.
    var fast1 = await ConfigureAsync("hot-fast", fast);
    receiver.Reset();
    var from = Stopwatch.StartNew();
    await HotAsync("1 channel, delivering", fast1, messages);
    await receiver.WaitForAsync(messages, TimeSpan.FromMinutes(10));
    Console.WriteLine($"| delivered from 1 channel (first accept to last receipt) | {messages:N0} | {from.Elapsed.TotalSeconds:F2} | "
        + $"{messages / from.Elapsed.TotalSeconds:N0} | | | |");
}

async Task HotAsync(string scenario, IChannelGrain channel, int count, bool retryFull = true)
{
    var (writes, flushes) = (log.Writes, log.Flushes);
    var (next, refused) = (-1, 0);
    var stopwatch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            while (true)
            {
                var result = await channel.EnqueueAsync(new Notification($"benchmark message {i}"), null);
                if (result.Accepted) break;
                if (result.Rejection != EnqueueRejection.OutboxFull || !retryFull) throw new InvalidOperationException(result.Error);
                Interlocked.Increment(ref refused);
                await Task.Delay(5);
            }
        }
    }));
    stopwatch.Stop();
    Console.WriteLine($"| {scenario} | {count:N0} | {stopwatch.Elapsed.TotalSeconds:F2} | {count / stopwatch.Elapsed.TotalSeconds:N0} | {refused:N0} | "
        + $"{(double)(log.Writes - writes) / count:F2} | {(double)(log.Writes - writes) / Math.Max(1, log.Flushes - flushes):F1} |");
}

async Task<IChannelGrain> ConfigureAsync(string id, RateLimitPolicy rateLimit)
{
    var channel = grains.GetGrain<IChannelGrain>(GrainKeys.Channel("bench", id));
    await channel.ConfigureAsync(new ChannelConfig(id, true, new WebhookSettings($"{receiver.Url}/{id}", secret), rateLimit));
    return channel;
}

async Task MeasureAsync(string scenario, int count, Func<int, IChannelGrain> target)
{
    var (writes, flushes) = (log.Writes, log.Flushes);
    var next = -1;
    var stopwatch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            var result = await target(i).EnqueueAsync(new Notification($"benchmark message {i}"), null);
            if (!result.Accepted) throw new InvalidOperationException(result.Error);
        }
    }));
    stopwatch.Stop();
    var perFsync = (double)(log.Writes - writes) / Math.Max(1, log.Flushes - flushes);
    Console.WriteLine($"| {scenario} | {count:N0} | {stopwatch.Elapsed.TotalSeconds:F2} | {count / stopwatch.Elapsed.TotalSeconds:N0} | {perFsync:F1} |");
}

int ArgValue(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1]) : fallback;
}

/// <summary>A webhook endpoint that answers 200 at once and counts what it got.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _received;

    private Receiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = new Receiver(builder.Build());
        receiver._app.MapPost("/{id}", () => { Interlocked.Increment(ref receiver._received); return Results.Ok(); });
        await receiver._app.StartAsync();
        receiver.Url = receiver._app.Urls.First();
        return receiver;
    }

    public int Received => Volatile.Read(ref _received);

    public void Reset() => Interlocked.Exchange(ref _received, 0);

    public async Task WaitForAsync(int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref _received) < count)
        {
            if (deadline.Elapsed > timeout) throw new TimeoutException($"only {_received} of {count} delivered");
            await Task.Delay(10);
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
