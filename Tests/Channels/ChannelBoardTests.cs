using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Support;

namespace Dovecote.Tests.Channels;

/// <summary>A two-silo delivery cluster whose messages keep retrying while a destination is down, so pending counts hold still.</summary>
public sealed class ChannelBoardClusterFixture() : DeliveryClusterFixture(settings => settings["Delivery:MaxAttempts"] = "100");

/// <summary>
/// The tenant's channel board on a real two-silo cluster: the board on one silo, its channels on the other, fed only by
/// what channels and the tenant grain tell it.
/// </summary>
public sealed class ChannelBoardTests(ChannelBoardClusterFixture fixture) : IClassFixture<ChannelBoardClusterFixture>
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task The_board_follows_a_channel_from_creation_through_pending_health_disabling_to_deletion()
    {
        var tenant = await CreateTenantAsync("board");
        using var scope = TenantContext.Enter(tenant);
        var board = Client.GetGrain<IChannelBoardGrain>(tenant);
        Assert.Empty((await board.GetPageAsync(null, 100)).Channels);
        await fixture.Cluster.PlaceOnAsync(board, fixture.Cluster.Silos[0].SiloAddress);

        var id = ChannelTestKit.UniqueId("lifecycle");
        var (url, secret) = fixture.Webhooks.CreateEndpoint();
        var config = new ChannelConfig("Ops hook", true, new WebhookSettings(url, secret), new RateLimitPolicy(100, 100));
        await Client.GetGrain<ITenantGrain>(tenant).AddChannelAsync(id);
        var channel = Client.Channel(tenant, id);
        await channel.ConfigureAsync(config);
        await fixture.Cluster.PlaceOnAsync(channel, fixture.Cluster.Silos[1].SiloAddress);

        var created = await BoardShowsAsync(board, id, e => e is { Health: "healthy", Pending: 0, Enabled: true }, "the new channel, healthy");
        Assert.Equal(new ChannelBoardEntry(id, ChannelType.Webhook, "Ops hook", true, "healthy", 0), created);

        fixture.Webhooks.Down = true;
        try
        {
            for (var m = 0; m < 3; m++) await channel.EnqueueOkAsync($"message {m}");
            await BoardShowsAsync(board, id, e => e is { Pending: 3, Health: "degraded" or "failing" }, "3 pending and degraded or failing while the destination answers 503");
        }
        finally
        {
            fixture.Webhooks.Down = false;
        }
        await BoardShowsAsync(board, id, e => e is { Pending: 0, Health: "healthy" }, "0 pending and healthy once all are delivered");

        await channel.ConfigureAsync(config with { Enabled = false });
        await BoardShowsAsync(board, id, e => e is { Enabled: false, Health: "disabled" }, "disabled");
        await channel.ConfigureAsync(config with { Enabled = true, Name = "Renamed" });
        await BoardShowsAsync(board, id, e => e is { Enabled: true, Name: "Renamed", Health: "healthy" }, "enabled again and renamed");

        await channel.DeleteAsync();
        await WaitForAsync(async () => await FindAsync(board, id) is null, "the deleted channel gone");
        await Client.GetGrain<ITenantGrain>(tenant).RemoveChannelAsync(id);
        Assert.Null(await FindAsync(board, id));
    }

    [Fact]
    public async Task Pages_of_250_channels_hold_each_channel_once_in_id_order_and_a_bad_limit_is_refused()
    {
        var tenant = await CreateTenantAsync("paging", channelLimit: 300);
        using var scope = TenantContext.Enter(tenant);
        var owner = Client.GetGrain<ITenantGrain>(tenant);
        var ids = Enumerable.Range(0, 250).Select(i => $"c{(i * 7919) % 1000:D3}-{i}").ToList(); // created out of order
        var (url, secret) = fixture.Webhooks.CreateEndpoint();
        foreach (var chunk in ids.Chunk(25))
        {
            await Task.WhenAll(chunk.Select(async id =>
            {
                await owner.AddChannelAsync(id);
                await Client.Channel(tenant, id).ConfigureAsync(new ChannelConfig(id, true, new WebhookSettings(url, secret)));
            }));
        }
        var board = Client.GetGrain<IChannelBoardGrain>(tenant);
        await WaitForAsync(async () => (await board.GetPageAsync(null, IChannelBoardGrain.MaxPageSize)).Channels.Count == 250, "all 250 on the board");

        var seen = new List<string>();
        var sizes = new List<int>();
        string? after = null;
        do
        {
            var page = await board.GetPageAsync(after, 100);
            sizes.Add(page.Channels.Count);
            seen.AddRange(page.Channels.Select(c => c.ChannelId));
            after = page.NextAfter;
        }
        while (after is not null);

        Assert.Equal([100, 100, 50], sizes);
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen);
        var exact = await board.GetPageAsync(null, 250);
        Assert.Null(exact.NextAfter); // a page that ends exactly at the last channel says so
        Assert.Equal(250, exact.Channels.Count);
        Assert.Contains("limit must be 1 to 500", (await Assert.ThrowsAsync<ArgumentException>(() => board.GetPageAsync(null, 0))).Message);
        Assert.Contains("limit must be 1 to 500", (await Assert.ThrowsAsync<ArgumentException>(() => board.GetPageAsync(null, 501))).Message);
    }

    [Fact]
    public async Task A_tenant_board_shows_only_its_own_channels_and_another_tenant_cannot_read_it()
    {
        var first = await CreateTenantAsync("iso-a");
        var second = await CreateTenantAsync("iso-b");
        var shared = ChannelTestKit.UniqueId("same-id");
        var (url, secret) = fixture.Webhooks.CreateEndpoint();
        foreach (var (tenant, name) in new[] { (first, "A's"), (second, "B's") })
        {
            using var scope = TenantContext.Enter(tenant);
            await Client.GetGrain<ITenantGrain>(tenant).AddChannelAsync(shared);
            await Client.Channel(tenant, shared).ConfigureAsync(new ChannelConfig(name, true, new WebhookSettings(url, secret)));
        }
        using (TenantContext.Enter(first))
        {
            var onlyFirst = ChannelTestKit.UniqueId("only-a");
            await Client.GetGrain<ITenantGrain>(first).AddChannelAsync(onlyFirst);
            await Client.Channel(first, onlyFirst).ConfigureAsync(new ChannelConfig("A only", true, new WebhookSettings(url, secret)));
            await WaitForAsync(async () => (await Client.GetGrain<IChannelBoardGrain>(first).GetPageAsync(null, 100)).Channels.Count == 2, "A's two channels");
        }

        using (TenantContext.Enter(second))
        {
            var page = await Client.GetGrain<IChannelBoardGrain>(second).GetPageAsync(null, 100);
            Assert.Equal("B's", Assert.Single(page.Channels).Name);
            // Starting "after" an id of A's only walks B's own board.
            Assert.Empty((await Client.GetGrain<IChannelBoardGrain>(second).GetPageAsync(shared, 100)).Channels);
            await Assert.ThrowsAsync<TenantIsolationException>(() => Client.GetGrain<IChannelBoardGrain>(first).GetPageAsync(null, 100));
        }
    }

    [Fact]
    public async Task A_board_that_moves_to_another_silo_rebuilds_from_its_channels()
    {
        var tenant = await CreateTenantAsync("moved");
        using var scope = TenantContext.Enter(tenant);
        var id = ChannelTestKit.UniqueId("moved");
        var (url, secret) = fixture.Webhooks.CreateEndpoint();
        await Client.GetGrain<ITenantGrain>(tenant).AddChannelAsync(id);
        await Client.Channel(tenant, id).ConfigureAsync(new ChannelConfig("Moved", true, new WebhookSettings(url, secret)));
        // Configured without the tenant listing it: reported, but neither shown nor found by a rebuild.
        var unlisted = ChannelTestKit.UniqueId("unlisted");
        await Client.Channel(tenant, unlisted).ConfigureAsync(new ChannelConfig("Unlisted", true, new WebhookSettings(url, secret)));
        var board = Client.GetGrain<IChannelBoardGrain>(tenant);
        await BoardShowsAsync(board, id, e => e.Name == "Moved", "the channel before the move");

        foreach (var silo in fixture.Cluster.Silos)
        {
            // A migrated board is a new activation on the other silo: nothing comes with it but what it rebuilds.
            await fixture.Cluster.PlaceOnAsync(board, silo.SiloAddress);
            var page = await board.GetPageAsync(null, 100);
            Assert.Equal([id], page.Channels.Select(c => c.ChannelId));
        }
    }

    /// <summary>A tenant of its own in <paramref name="client"/>'s cluster; <paramref name="channelLimit"/> above the default 100 where a test needs more.</summary>
    private Task<string> CreateTenantAsync(string prefix, int? channelLimit = null) => CreateTenantAsync(Client, prefix, channelLimit);

    internal static async Task<string> CreateTenantAsync(IClusterClient client, string prefix, int? channelLimit = null)
    {
        var tenant = GrainClusterFixture.UniqueTenant(prefix);
        using var scope = TenantContext.Enter(tenant);
        await client.GetGrain<ITenantGrain>(tenant).UpsertAsync("Board test", null, new TenantLimitOverrides(Channels: channelLimit));
        return tenant;
    }

    internal static async Task<ChannelBoardEntry?> FindAsync(IChannelBoardGrain board, string id) =>
        (await board.GetPageAsync(null, IChannelBoardGrain.MaxPageSize)).Channels.SingleOrDefault(c => c.ChannelId == id);

    /// <summary>Waits until the board's line of <paramref name="id"/> matches; the board is told one-way, so it may lag a little.</summary>
    internal static async Task<ChannelBoardEntry> BoardShowsAsync(IChannelBoardGrain board, string id, Func<ChannelBoardEntry, bool> wanted, string what)
    {
        ChannelBoardEntry? last = null;
        await WaitForAsync(async () => (last = await FindAsync(board, id)) is { } entry && wanted(entry), () => $"{what} (last seen: {last?.ToString() ?? "none"})");
        return last!;
    }

    internal static Task WaitForAsync(Func<Task<bool>> condition, string what) => WaitForAsync(condition, () => what);

    internal static async Task WaitForAsync(Func<Task<bool>> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"not seen within 60 s: {what()}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
