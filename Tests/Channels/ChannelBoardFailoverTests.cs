using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Fakes;

namespace Dovecote.Tests.Channels;

public sealed class ChannelBoardFailoverTests
{
    [Fact]
    public async Task A_board_lost_with_its_silo_is_rebuilt_from_the_channels_on_the_other_silo_with_their_pending_counts()
    {
        await using var webhooks = new FakeWebhookReceiver();
        await webhooks.StartAsync();
        var settings = DeliveryClusterFixture.DeliverySettings("http://127.0.0.1:9");
        settings["Delivery:MaxAttempts"] = "100"; // the outage must not dead-letter anything, however slow the machine
        await using var own = await OwnDeliveryCluster.StartAsync(settings);
        var (cluster, client) = (own.Cluster, own.Client);
        var (survivor, victim) = (cluster.Silos[0], cluster.Silos[1]);
        var tenant = await ChannelBoardTests.CreateTenantAsync(client, "failover");
        using var scope = TenantContext.Enter(tenant);
        var board = client.GetGrain<IChannelBoardGrain>(tenant);
        await board.GetPageAsync(null, 100);
        await cluster.PlaceOnAsync(board, victim.SiloAddress);

        var (url, secret) = webhooks.CreateEndpoint();
        webhooks.Down = true; // nothing is delivered, so the pending counts stay
        var expected = new Dictionary<string, int>();
        for (var c = 0; c < 4; c++)
        {
            var id = $"failover-{c}";
            await client.GetGrain<ITenantGrain>(tenant).AddChannelAsync(id);
            var channel = client.Channel(tenant, id);
            await channel.ConfigureAsync(new ChannelConfig($"F{c}", true, new WebhookSettings(url, secret), new RateLimitPolicy(100, 100)));
            await cluster.PlaceOnAsync(channel, survivor.SiloAddress);
            for (var m = 0; m < c; m++) await channel.EnqueueOkAsync($"channel {c} message {m}");
            expected[id] = c;
        }
        foreach (var (id, pending) in expected)
            await ChannelBoardTests.BoardShowsAsync(board, id, e => e.Pending == pending, $"{id} with {pending} pending before the kill");

        await cluster.KillSiloAsync(victim, TestContext.Current.CancellationToken);

        // The first call after the loss activates the board on the survivor, which asks the channels.
        var page = await board.GetPageAsync(null, 100);
        Assert.Equal(expected.Keys, page.Channels.Select(c => c.ChannelId));
        Assert.Equal(expected.Values, page.Channels.Select(c => c.Pending));
        Assert.All(page.Channels.Where(c => c.Pending > 0), c => Assert.Contains(c.Health, new[] { "degraded", "failing" }));

        // And the rebuilt board keeps following them.
        webhooks.Down = false;
        foreach (var id in expected.Keys)
            await ChannelBoardTests.BoardShowsAsync(board, id, e => e is { Pending: 0, Health: "healthy" }, $"{id} delivered after the kill");
    }
}
