using System.Text;
using System.Text.RegularExpressions;
using Dovecote.Grains.Channels;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.Storage;
using Dovecote.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Dovecote.Tests.Channels;

/// <summary>
/// Each pending message is a record of its own (outbox.{sequence}) beside the channel state, on real grains and the real
/// embedded storage: what an accept writes, what a new activation finds, and what a second activation cannot overwrite.
/// </summary>
[Collection(DeliveryClusterCollection.Name)]
public sealed class PagedOutboxTests(DeliveryClusterFixture fx)
{
    private const string Tenant = "acme";
    private static readonly RateLimitPolicy Held = new(1, 0.001); // one send, then everything waits
    private static readonly RateLimitPolicy Fast = new(50, 50);

    [Fact]
    public async Task An_accept_writes_its_own_small_record_and_not_the_channel_state()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, _, _) = await HeldWebhookAsync();
        var first = await channel.EnqueueOkAsync("sent at once"); // takes the one token
        Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(first)).State);
        var stateETag = StoredState(channel).ETag;

        for (var i = 0; i < 5; i++) await channel.EnqueueOkAsync($"pending {i}");

        Assert.Equal(stateETag, StoredState(channel).ETag); // five accepts, and the channel state was not rewritten
        var records = Records(channel);
        Assert.Equal(5, records.Count);
        for (var i = 0; i < 5; i++)
        {
            var (name, json) = records[i];
            Assert.Equal(OutboxRecords.StateName(i + 1), name);
            Assert.Contains($"pending {i}", json);
            Assert.True(Encoding.UTF8.GetByteCount(json) < 1_024, $"record {name} takes {json.Length} bytes");
        }
    }

    [Fact]
    public async Task Accepts_never_followed_by_a_channel_state_write_survive_a_new_activation_with_their_keys_and_order()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, url, secret) = await HeldWebhookAsync();
        Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(await channel.EnqueueOkAsync("takes the token"))).State);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add(await channel.EnqueueOkAsync($"resumed {i}", idempotencyKey: $"key-{i}"));
        // The state on disk knows none of them (nor their keys): as after a crash right after the accepts.
        var stored = StoredState(channel).Json;
        Assert.Contains("\"NextSequence\":1", stored);
        Assert.DoesNotContain("key-0", stored);

        await fx.Cluster.DeactivateAsync(channel);

        // The new activation probed past the stored NextSequence: the messages are pending and their keys remembered.
        Assert.Equal(5, (await channel.GetInfoAsync())!.Pending);
        var again = await channel.EnqueueAsync(new Notification("resumed 3, sent twice"), "key-3");
        Assert.True(again.Duplicate);
        Assert.Equal(ids[3], again.DeliveryId);
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret), Fast));
        foreach (var id in ids) Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(id)).State);

        // In order; Distinct because delivery is at-least-once and the fixture's attempt timeout is 1 s on a loaded machine.
        var sent = fx.Webhooks.Deliveries.Where(d => url.EndsWith(d.EndpointName)).Select(d => Regex.Match(d.Body, "resumed \\d").Value).Skip(1)
            .Distinct();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"resumed {i}"), sent);
        // Every record is cleared once its outcome is in the channel state (a waiter hears of the outcome a little before).
        await WaitUntilAsync(() => Records(channel).Count == 0 && StoredState(channel).Json.Contains("\"HeadSequence\":6"));
    }

    [Fact]
    public async Task A_second_activation_that_already_wrote_a_sequence_makes_the_accept_fail_and_nothing_acknowledged_is_lost()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, url, secret) = await HeldWebhookAsync();
        var ours = await channel.EnqueueOkAsync("ours, sequence 0");
        // Another activation of this channel (a failover's moment of two) accepted sequence 1 behind our back.
        var storage = fx.Cluster.GetSiloServiceProvider().GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);
        var theirs = new OutboxMessage
        {
            DeliveryId = $"{ours.Split(':')[0]}:theirs",
            Notification = new Notification("theirs, sequence 1"),
            AcceptedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
            Sequence = 1,
        };
        await storage.WriteStateAsync(OutboxRecords.StateName(1), channel.GetGrainId(), new GrainState<OutboxMessage>(theirs));

        // Our activation still believes sequence 1 is free: its insert must fail, not overwrite theirs.
        var conflict = await Assert.ThrowsAnyAsync<Exception>(() => channel.EnqueueAsync(new Notification("lost?"), "retried-key"));
        Assert.Contains("another activation", conflict.Message);
        Assert.Contains("theirs, sequence 1", Records(channel).Single(r => r.Name == OutboxRecords.StateName(1)).Json);

        // The caller's retry reaches a fresh activation (or, until the runtime drops it, is refused by the stale one),
        // which loads both and takes the next sequence.
        EnqueueResult? retried = null;
        await WaitUntilAsync(async () =>
        {
            try
            {
                retried = await channel.EnqueueAsync(new Notification("retried, sequence 2"), "retried-key");
            }
            catch (InconsistentStateException e) when (e.Message.Contains("reloading"))
            {
            }
            return retried is not null;
        });
        Assert.True(retried!.Accepted, retried.Error);
        // The fresh activation knows their message (its new token bucket may already have sent it).
        Assert.Contains((await channel.GetDeliveryAsync(theirs.DeliveryId))?.State, new DeliveryState?[] { DeliveryState.Queued, DeliveryState.Delivered });
        Assert.False(retried.Duplicate);
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret), Fast));
        foreach (var id in new[] { ours, theirs.DeliveryId, retried.DeliveryId! })
            Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(id)).State);
        var bodies = fx.Webhooks.Deliveries.Where(d => url.EndsWith(d.EndpointName)).Select(d => d.Body).ToList();
        // At least once: "ours" may have been in flight when our activation went stale, which then records no outcome.
        Assert.Contains(bodies, b => b.Contains("ours, sequence 0"));
        Assert.Contains(bodies, b => b.Contains("theirs, sequence 1"));
        Assert.Contains(bodies, b => b.Contains("retried, sequence 2"));
        Assert.DoesNotContain(bodies, b => b.Contains("lost?"));
    }

    [Fact]
    public async Task Concurrent_accepts_into_one_channel_share_flushes_dedupe_their_keys_and_are_delivered_once_each_in_sequence_order()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, url, secret) = await HeldAfterFirstAsync(fx.Log);
        var flushes = fx.Log.Flushes;

        // 30 calls at once (the fixture's outbox holds 20), the last 10 repeating the keys of the first 10 with another text.
        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            channel.EnqueueAsync(new Notification($"burst {i} ."), $"key-{i % 20}")));

        Assert.All(results, r => Assert.True(r.Accepted, r.Error));
        for (var i = 20; i < 30; i++)
        {
            // Whichever of the two calls with one key came second is the duplicate.
            Assert.Equal(results[i - 20].DeliveryId, results[i].DeliveryId);
            Assert.NotEqual(results[i - 20].Duplicate, results[i].Duplicate);
        }
        Assert.Equal(20, results.Count(r => !r.Duplicate));
        // Accepts one at a time cost a flush each; overlapping ones share them.
        Assert.True(fx.Log.Flushes - flushes < 20, $"{fx.Log.Flushes - flushes} flushes for 20 accepts");
        var order = Records(fx.Log, channel).Select(r => Regex.Match(r.Json, "burst \\d+ \\.").Value).ToList();
        Assert.Equal(20, order.Count);
        var firstTexts = Enumerable.Range(0, 30).Where(i => !results[i].Duplicate).Select(i => $"burst {i} .");
        Assert.Equal(firstTexts.Order(), order.Order()); // the duplicates' texts were stored nowhere

        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret), Fast));
        foreach (var r in results.Where(r => !r.Duplicate)) Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(r.DeliveryId!)).State);
        AssertDeliveredOnceEachInOrder(fx.Webhooks, url, order);
    }

    [Fact]
    public async Task A_failed_write_among_concurrent_accepts_leaves_a_gap_that_loses_no_acknowledged_message_and_duplicates_none()
    {
        await using var webhooks = new FakeWebhookReceiver();
        await webhooks.StartAsync();
        var faults = new FailOneRecordWrite(OutboxRecords.StateName(3), after: OutboxRecords.StateName(6));
        await using var own = await OwnDeliveryCluster.StartAsync(DeliveryClusterFixture.DeliverySettings("http://127.0.0.1:9"),
            services => services.AddKeyedSingleton<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, key) =>
                faults.Around(new FileGrainStorage((string)key!, sp.GetRequiredService<GrainStateLog>(), sp.GetRequiredService<IGrainStorageSerializer>(),
                    sp.GetRequiredService<IActivatorProvider>(), sp.GetRequiredService<IOptions<ClusterOptions>>()))));
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, url, secret) = await HeldAfterFirstAsync(own.Log, own.Client, webhooks);

        // Sequences 1 to 10 at once; the write of 3 fails once 6 is durable, so 4 to 6 at least are acknowledged past a gap.
        var texts = Enumerable.Range(1, 10).Select(i => $"gap {i} .").ToList();
        var first = await Task.WhenAll(texts.Select(async text =>
        {
            try
            {
                return await channel.EnqueueAsync(new Notification(text), text);
            }
            catch (Exception)
            {
                return null; // not acknowledged: the write failed, or the stale activation refused it
            }
        }));
        Assert.True(faults.Failed);
        Assert.Contains(first, r => r is null);
        var stored = Records(own.Log, channel);
        Assert.DoesNotContain(stored, r => r.Name == OutboxRecords.StateName(3));
        var acknowledged = first.Where(r => r is not null).Select(r => r!.DeliveryId!).ToHashSet();
        Assert.Contains(stored, r => long.Parse(r.Name[OutboxRecords.StatePrefix.Length..]) > 3 && acknowledged.Any(r.Json.Contains));

        // The callers retry what was not acknowledged, with the same keys; a fresh activation reads past the gap.
        var ids = new Dictionary<string, string>();
        for (var i = 0; i < texts.Count; i++)
        {
            if (first[i] is { } ok)
            {
                ids[texts[i]] = ok.DeliveryId!;
                continue;
            }
            EnqueueResult? retried = null;
            await WaitUntilAsync(async () =>
            {
                try
                {
                    retried = await channel.EnqueueAsync(new Notification(texts[i]), texts[i]);
                }
                catch (InconsistentStateException e) when (e.Message.Contains("reloading"))
                {
                }
                return retried is not null;
            });
            Assert.True(retried!.Accepted, retried.Error);
            ids[texts[i]] = retried.DeliveryId!;
        }
        // The fresh activation's token bucket starts with its one token, so it may have sent its head already.
        var sent = webhooks.Deliveries.Where(d => url.EndsWith(d.EndpointName)).Select(d => Regex.Match(d.Body, "gap \\d+ \\.").Value)
            .Where(t => t.Length > 0).Distinct().ToList();
        var order = sent.Concat(Records(own.Log, channel).Select(r => Regex.Match(r.Json, "gap \\d+ \\.").Value).Except(sent)).ToList();
        Assert.Equal(texts.Order(), order.Order());

        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret), Fast));
        foreach (var id in ids.Values) Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(id)).State);
        AssertDeliveredOnceEachInOrder(webhooks, url, order);
    }

    [Fact]
    public async Task A_new_activation_reads_past_a_gap_below_the_window_with_the_order_and_keys_of_what_it_finds()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, url, secret) = await HeldAfterFirstAsync(fx.Log);
        var results = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => channel.EnqueueAsync(new Notification($"window {i} ."), $"window-key-{i}")));
        Assert.All(results, r => Assert.True(r.Accepted, r.Error));
        Assert.DoesNotContain("window-key", StoredState(fx.Log, channel).Json); // the state knows none of them: as after a crash
        Assert.True(fx.Log.TryGet(StateKey(channel, OutboxRecords.WindowStateName), out _), "overlapping accepts wrote no window");

        // As after a crash in which one of the overlapping writes (sequence 5) never became durable.
        await fx.Cluster.DeactivateAsync(channel);
        Assert.True(fx.Log.TryGet(StateKey(channel, OutboxRecords.StateName(5)), out var lost));
        var lostText = Regex.Match(Encoding.UTF8.GetString(lost.Data.Span), "window \\d+ \\.").Value;
        await fx.Log.DeleteAsync(StateKey(channel, OutboxRecords.StateName(5)), lost.ETag, TestContext.Current.CancellationToken);
        var order = Records(fx.Log, channel).Select(r => Regex.Match(r.Json, "window \\d+ \\.").Value).ToList();
        Assert.Equal(19, order.Count);

        // The new activation finds the 19 past the gap, in order, and their keys.
        Assert.Equal(19, (await channel.GetInfoAsync())!.Pending);
        var lostIndex = int.Parse(Regex.Match(lostText, "\\d+").Value) - 1;
        var keptIndex = lostIndex == 0 ? 1 : 0;
        var again = await channel.EnqueueAsync(new Notification("sent twice"), $"window-key-{keptIndex + 1}");
        Assert.True(again.Duplicate);
        Assert.Equal(results[keptIndex].DeliveryId, again.DeliveryId);
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret), Fast));
        foreach (var r in results.Where((_, i) => i != lostIndex))
            Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(r.DeliveryId!)).State);
        AssertDeliveredOnceEachInOrder(fx.Webhooks, url, order);
        Assert.DoesNotContain(fx.Webhooks.Deliveries, d => d.Body.Contains(lostText));
    }

    [Fact]
    public async Task Deleting_a_channel_deletes_its_records_and_its_state()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, _, _) = await HeldWebhookAsync();
        for (var i = 0; i < 3; i++) await channel.EnqueueOkAsync($"doomed {i}");
        Assert.NotEmpty(Records(channel));

        await channel.DeleteAsync();

        Assert.Empty(Records(channel));
        Assert.False(fx.Log.TryGet(StateKey(channel, "channel"), out _));
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 30 s");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private async Task<(IChannelGrain Channel, string Url, string Secret)> HeldWebhookAsync()
    {
        var (url, secret) = fx.Webhooks.CreateEndpoint();
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("paged"));
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret), Held));
        return (channel, url, secret);
    }

    /// <summary>
    /// A channel that sent its first message and stored the channel state after it (HeadSequence 1), then holds
    /// everything: what it accepts next is known to its records only.
    /// </summary>
    private async Task<(IChannelGrain Channel, string Url, string Secret)> HeldAfterFirstAsync(
        GrainStateLog log, IClusterClient? client = null, FakeWebhookReceiver? webhooks = null)
    {
        var (url, secret) = (webhooks ?? fx.Webhooks).CreateEndpoint();
        var channel = (client ?? fx.Client).Channel(Tenant, ChannelTestKit.UniqueId("paged"));
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret), Held));
        Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(await channel.EnqueueOkAsync("takes the token"))).State);
        await WaitUntilAsync(() => StoredState(log, channel).Json.Contains("\"HeadSequence\":1"));
        return (channel, url, secret);
    }

    /// <summary>Each text arrived with one webhook id (redeliveries of it may repeat that id), in the given order.</summary>
    private static void AssertDeliveredOnceEachInOrder(FakeWebhookReceiver webhooks, string url, IReadOnlyList<string> order)
    {
        var arrived = webhooks.Deliveries.Where(d => url.EndsWith(d.EndpointName) && order.Any(d.Body.Contains))
            .Select(d => (Text: order.First(d.Body.Contains), d.WebhookId)).ToList();
        foreach (var text in order) Assert.Single(arrived.Where(a => a.Text == text).Select(a => a.WebhookId).Distinct());
        Assert.Equal(order, arrived.Select(a => a.Text).Distinct());
    }

    private string StateKey(IChannelGrain channel, string stateName) => $"state/{fx.Cluster.Options.ServiceId}/{stateName}/{channel.GetGrainId()}";

    private (string ETag, string Json) StoredState(IChannelGrain channel) => StoredState(fx.Log, channel);

    private static (string ETag, string Json) StoredState(GrainStateLog log, IChannelGrain channel)
    {
        var stored = log.Scan("state/").Single(e => e.Key.EndsWith($"/channel/{channel.GetGrainId()}", StringComparison.Ordinal)).Value;
        return (stored.ETag, Encoding.UTF8.GetString(stored.Data.Span));
    }

    private List<(string Name, string Json)> Records(IChannelGrain channel) => Records(fx.Log, channel);

    /// <summary>This channel's outbox records in sequence order: (state name, stored JSON). Keys are "state/{service}/{name}/{grain id}".</summary>
    private static List<(string Name, string Json)> Records(GrainStateLog log, IChannelGrain channel)
    {
        var suffix = $"/{channel.GetGrainId()}";
        return log.Scan("state/")
            .Where(e => e.Key.EndsWith(suffix, StringComparison.Ordinal))
            .Select(e => (Name: e.Key[..^suffix.Length].Split('/')[2], Json: Encoding.UTF8.GetString(e.Value.Data.Span)))
            .Where(r => r.Name.StartsWith(OutboxRecords.StatePrefix, StringComparison.Ordinal))
            .OrderBy(r => long.Parse(r.Name[OutboxRecords.StatePrefix.Length..]))
            .ToList();
    }
}

/// <summary>
/// The default grain storage, except that the first write of one record name fails (and stores nothing) once a write
/// of another record name has completed: an accept whose write failed while later ones were acknowledged.
/// </summary>
internal sealed class FailOneRecordWrite(string failing, string after)
{
    private readonly TaskCompletionSource _afterWritten = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly (string Failing, string After) _names = (failing, after);
    private int _failed;

    public bool Failed => Volatile.Read(ref _failed) == 1;

    public IGrainStorage Around(IGrainStorage inner) => new Storage(this, inner);

    private sealed class Storage(FailOneRecordWrite faults, IGrainStorage inner) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (stateName == faults._names.Failing && Interlocked.CompareExchange(ref faults._failed, 1, 0) == 0)
            {
                // Bounded, so a run where nothing overlaps (the feature broken) fails its assertions instead of hanging.
                await faults._afterWritten.Task.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });
                throw new IOException($"simulated failure writing {stateName}");
            }
            await inner.WriteStateAsync(stateName, grainId, grainState);
            if (stateName == faults._names.After) faults._afterWritten.TrySetResult();
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
