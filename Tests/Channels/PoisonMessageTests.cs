using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.Storage;
using Dovecote.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dovecote.Tests.Channels;

/// <summary>
/// "One message must never block a channel" and the outbox's byte budget, on real grains. A message nested past
/// Markdig's depth limit used to be acknowledged and then throw inside the drain timer at the head of the outbox forever.
/// </summary>
[Collection(DeliveryClusterCollection.Name)]
public sealed class PoisonMessageTests(DeliveryClusterFixture fx)
{
    private const string Tenant = "acme";
    private const string BotToken = "123456:test-token-abcdef";
    private static readonly string Poison = string.Concat(Enumerable.Repeat("> ", 128)) + "text";

    [Fact]
    public async Task A_message_that_cannot_be_rendered_is_refused_at_enqueue_with_the_reason_and_the_channel_delivers_the_next()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("tg"));
        await channel.ConfigureAsync(new ChannelConfig("Telegram", true, new TelegramSettings(BotToken, chat)));

        var refused = await channel.EnqueueAsync(new Notification(Poison), "poison-key");

        Assert.Equal(EnqueueRejection.InvalidMessage, refused.Rejection);
        Assert.Contains("nests Markdown too deeply", refused.Error);
        Assert.Equal(0, (await channel.GetInfoAsync())!.Pending);
        // Refused means not remembered: the same key with a message that renders is a new delivery, and it arrives.
        var next = await channel.EnqueueAsync(new Notification("after the poison"), "poison-key");
        Assert.True(next.Accepted, next.Error);
        Assert.False(next.Duplicate);
        Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(next.DeliveryId!)).State);
        // Distinct: at-least-once, and the fixture's attempt timeout is 1 s on a loaded machine.
        Assert.Equal(["after the poison"], fx.Telegram.Messages.Where(m => m.ChatId == chat).Select(m => m.Text).Distinct());
    }

    [Fact]
    public async Task Past_the_outbox_byte_budget_enqueues_are_refused_as_backpressure_and_accepted_again_once_it_drains()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (url, secret) = fx.Webhooks.CreateEndpoint();
        var endpoint = new Uri(url).Segments[^1];
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("wh"));
        // One token, refilled every 1000 s: after the first send everything waits in the outbox.
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret), new RateLimitPolicy(1, 0.001)));
        var big = new string('x', Notification.MaxMessageLength - 10); // about 33 KB stored: the fixture's 256 KiB hold seven

        var results = new List<EnqueueResult>();
        for (var i = 0; i < 12 && results.All(r => r.Accepted); i++) results.Add(await channel.EnqueueAsync(new Notification($"{i} {big}"), null));

        var refused = results[^1];
        Assert.Equal(EnqueueRejection.OutboxFull, refused.Rejection);
        Assert.Contains("Delivery__OutboxBudgetBytes", refused.Error);
        Assert.Contains("backpressure", refused.Error);
        var accepted = results.Where(r => r.Accepted).Select(r => r.DeliveryId!).ToList();
        Assert.InRange(accepted.Count, 7, 8); // the count limit (20 here) is not reached: bytes refused it
        var info = await channel.GetInfoAsync();
        Assert.True(info!.Pending >= accepted.Count - 1, $"{info.Pending} pending of {accepted.Count}"); // the first may have gone out

        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret), new RateLimitPolicy(50, 50)));
        foreach (var id in accepted) Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(id)).State);

        var again = await channel.EnqueueAsync(new Notification($"again {big}"), null);
        Assert.True(again.Accepted, again.Error);
        Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(again.DeliveryId!)).State);
        var delivered = fx.Webhooks.Deliveries.Where(d => d.EndpointName == endpoint).Select(d => d.WebhookId).Distinct(); // at-least-once
        Assert.Equal(accepted.Append(again.DeliveryId!).Order(), delivered.Order());
    }
}

/// <summary>A message accepted under one operator's limits meets lower ones after a restart: it must not wedge the channel.</summary>
public sealed class UnrenderableAfterRestartTests
{
    private const string BotToken = "123456:restart-token";

    [Fact]
    public async Task A_pending_message_that_no_longer_renders_is_dead_lettered_with_the_reason_and_the_one_behind_it_is_delivered()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("dovecote-limits-").FullName;
        await using var telegram = new FakeTelegramServer();
        await telegram.StartAsync();
        var log = new GrainStateLog(new GrainStateLogOptions { Directory = Path.Combine(dataDirectory, "grains") }, NullLogger<GrainStateLog>.Instance);
        var chat = ChannelTestKit.UniqueChatId();
        var key = GrainKeys.Channel("acme", "limits");
        var serviceId = $"limits-{Guid.NewGuid():N}";
        const int words = 3_000; // about 17,000 characters: five Telegram messages
        string longId, shortId;
        try
        {
            using var tenant = TenantContext.Enter("acme");
            var generous = DeliveryClusterFixture.BuildCluster(log, dataDirectory, DeliveryClusterFixture.DeliverySettings(telegram.BaseUrl), serviceId);
            try
            {
                await generous.DeployAsync(TestContext.Current.CancellationToken);
                var channel = generous.Client.GetGrain<IChannelGrain>(key);
                // One token, refilled every 1000 s: the warm-up message takes it and the rest stays pending.
                await channel.ConfigureAsync(new ChannelConfig("Phone", true, new TelegramSettings(BotToken, chat), new RateLimitPolicy(1, 0.001)));
                var warmUp = await channel.EnqueueOkAsync("warm-up");
                Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(warmUp)).State);
                longId = await channel.EnqueueOkAsync(ChannelTestKit.NumberedWords(words)); // five chunks: fine under the default 50
                shortId = await channel.EnqueueOkAsync("the message behind it");
                Assert.Equal(2, (await channel.GetInfoAsync())!.Pending);
            }
            finally
            {
                await generous.DisposeAsync();
            }

            var settings = DeliveryClusterFixture.DeliverySettings(telegram.BaseUrl);
            settings["Delivery:MaxChunksPerMessage"] = "2";
            var strict = DeliveryClusterFixture.BuildCluster(log, dataDirectory, settings, serviceId);
            try
            {
                await strict.DeployAsync(TestContext.Current.CancellationToken);
                var channel = strict.Client.GetGrain<IChannelGrain>(key);
                // The restarted channel has a fresh token: the head message spends it failing to render. A faster rate
                // (an operator's change) lets the one behind it go.
                await channel.ConfigureAsync(new ChannelConfig("Phone", true, new TelegramSettings(BotToken, chat), new RateLimitPolicy(10, 10)));

                var dead = await channel.WaitForFinalAsync(longId);
                var next = await channel.WaitForFinalAsync(shortId);

                Assert.Equal(DeliveryState.Failed, dead.State);
                Assert.Contains("one notification may send at most 2", dead.LastError);
                Assert.Equal(longId, Assert.Single(await channel.GetDeadLettersAsync()).DeliveryId);
                Assert.Equal(DeliveryState.Delivered, next.State);
                Assert.Equal(["warm-up", "the message behind it"], telegram.Messages.Where(m => m.ChatId == chat).Select(m => m.Text).Distinct());
                var info = await channel.GetInfoAsync();
                Assert.True(info!.Enabled);
                Assert.Equal(0, info.Pending);
            }
            finally
            {
                await strict.DisposeAsync();
            }
        }
        finally
        {
            await log.DisposeAsync();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}

/// <summary>A sender with a bug (it throws instead of answering an outcome) must cost one message, not the channel.</summary>
public sealed class ThrowingSenderTests
{
    private const string Trigger = "make the sender throw";

    [Fact]
    public async Task A_message_whose_send_throws_is_dead_lettered_and_the_drain_goes_on_to_the_next()
    {
        await using var webhooks = new FakeWebhookReceiver();
        await webhooks.StartAsync();
        await using var own = await OwnDeliveryCluster.StartAsync(DeliveryClusterFixture.DeliverySettings("http://127.0.0.1:9"),
            s => s.Replace(ServiceDescriptor.Singleton(sp => new ChannelSenders(sp.GetServices<IChannelSender>()
                .Select(sender => sender.Type == ChannelType.Webhook ? new ThrowingSender(sender) : sender)))));
        var cluster = own.Cluster;
        using var tenant = TenantContext.Enter("acme");
        var (url, secret) = webhooks.CreateEndpoint();
        var channel = cluster.Client.GetGrain<IChannelGrain>(GrainKeys.Channel("acme", "throwing"));
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret)));

        var broken = await channel.EnqueueOkAsync(Trigger);
        var next = await channel.EnqueueOkAsync("the next legitimate message");
        var brokenStatus = await channel.WaitForFinalAsync(broken);
        var nextStatus = await channel.WaitForFinalAsync(next);
        // Later enqueues still find a drain: nothing waits on a timer the exception killed.
        var later = await channel.EnqueueOkAsync("a later message");
        var laterStatus = await channel.WaitForFinalAsync(later);

        Assert.Equal(DeliveryState.Failed, brokenStatus.State);
        Assert.Equal("sending failed unexpectedly (InvalidOperationException)", brokenStatus.LastError);
        Assert.Equal(DeliveryState.Delivered, nextStatus.State);
        Assert.Equal(DeliveryState.Delivered, laterStatus.State);
        var received = webhooks.Deliveries
            .Select(d => System.Text.Json.JsonDocument.Parse(d.Body).RootElement.GetProperty("data").GetProperty("message").GetString());
        Assert.Equal(["the next legitimate message", "a later message"], received.Distinct());
    }

    private sealed class ThrowingSender(IChannelSender inner) : IChannelSender
    {
        public ChannelType Type => inner.Type;

        public IReadOnlyList<RenderedChunk> Render(Notification notification, RenderLimits limits) => inner.Render(notification, limits);

        public Task<SendOutcome> SendAsync(SendRequest request, CancellationToken cancellationToken) =>
            request.Notification.Message == Trigger ? throw new InvalidOperationException("a bug in the sender") : inner.SendAsync(request, cancellationToken);
    }
}
