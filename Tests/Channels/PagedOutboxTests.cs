using System.Text;
using System.Text.RegularExpressions;
using Dovecote.Grains.Channels;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
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

    private string StateKey(IChannelGrain channel, string stateName) => $"state/{fx.Cluster.Options.ServiceId}/{stateName}/{channel.GetGrainId()}";

    private (string ETag, string Json) StoredState(IChannelGrain channel)
    {
        Assert.True(fx.Log.TryGet(StateKey(channel, "channel"), out var stored));
        return (stored.ETag, Encoding.UTF8.GetString(stored.Data.Span));
    }

    /// <summary>This channel's outbox records in sequence order: (state name, stored JSON).</summary>
    private List<(string Name, string Json)> Records(IChannelGrain channel)
    {
        var prefix = $"state/{fx.Cluster.Options.ServiceId}/{OutboxRecords.StatePrefix}";
        var suffix = $"/{channel.GetGrainId()}";
        return fx.Log.Scan(prefix)
            .Where(e => e.Key.EndsWith(suffix, StringComparison.Ordinal))
            .Select(e => (Name: e.Key[(prefix.Length - OutboxRecords.StatePrefix.Length)..^suffix.Length], Json: Encoding.UTF8.GetString(e.Value.Data.Span)))
            .OrderBy(r => long.Parse(r.Name[OutboxRecords.StatePrefix.Length..]))
            .ToList();
    }
}
