using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Fakes;

namespace Dovecote.Tests.Channels;

public sealed class SiloFailoverTests
{
    [Fact]
    public async Task Pending_messages_of_a_killed_silo_are_delivered_from_the_other_silo_with_no_new_call()
    {
        await using var webhooks = new FakeWebhookReceiver();
        await webhooks.StartAsync();
        var settings = DeliveryClusterFixture.DeliverySettings("http://127.0.0.1:9");
        settings["Delivery:MaxAttempts"] = "100"; // the outage must not exhaust the retry budget, however slow the machine
        await using var own = await OwnDeliveryCluster.StartAsync(settings);
        var cluster = own.Cluster;
        using var tenant = TenantContext.Enter("acme");
        var victim = cluster.Silos[1];
        webhooks.Down = true; // the destination is down, so everything stays pending

        var expected = new Dictionary<string, List<string>>();
        for (var c = 0; c < 8; c++)
        {
            var (url, secret) = webhooks.CreateEndpoint();
            var channel = cluster.Client.GetGrain<IChannelGrain>(GrainKeys.Channel("acme", $"failover-{c}"));
            await channel.ConfigureAsync(new ChannelConfig($"F{c}", true, new WebhookSettings(url, secret), new RateLimitPolicy(100, 100)));
            await cluster.PlaceOnAsync(channel, victim.SiloAddress);
            var endpoint = new Uri(url).Segments[^1];
            expected[endpoint] = [];
            for (var m = 0; m < 3; m++)
            {
                var message = $"channel {c} message {m}";
                await channel.EnqueueOkAsync(message);
                expected[endpoint].Add(message);
            }
        }
        await webhooks.WaitUntilAsync(() => webhooks.Requests.Count(r => r.StatusCode == 503) >= 8, because: "every channel tried its first message");

        await cluster.KillSiloAsync(victim, TestContext.Current.CancellationToken);
        webhooks.Down = false;

        await webhooks.WaitUntilAsync(() => webhooks.Deliveries.Count >= 24, TimeSpan.FromSeconds(60), "all 24 messages after the kill");
        foreach (var (endpoint, messages) in expected)
        {
            var received = webhooks.Deliveries.Where(d => d.EndpointName == endpoint)
                .Select(d => System.Text.Json.JsonDocument.Parse(d.Body).RootElement.GetProperty("data").GetProperty("message").GetString()!)
                .Distinct() // at-least-once: a crash between send and state write may repeat one
                .ToList();
            Assert.Equal(messages, received);
        }
    }
}
