using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Fakes;

namespace Dovecote.Tests.Channels;

/// <summary>
/// "Garbage from destinations", end to end: a real cluster delivers to fakes that answer one hostile response,
/// and each channel must classify it, carry on, and deliver the next legitimate message. Before the senders
/// parsed defensively, several of these answers threw out of the drain loop and wedged the channel on its
/// head message.
/// </summary>
public sealed class HostileDestinationDeliveryTests(HostileDestinationsFixture fx) : IClassFixture<HostileDestinationsFixture>
{
    private const string Tenant = "hostile";
    private const string BotToken = "424242:hostile-token"; // no "bot" inside: the fake's "/bot{token}" route would not match it
    private const string Json = "application/json";

    private static IReadOnlyDictionary<string, string> Headers(params (string Name, string Value)[] headers) =>
        headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase);

    private async Task<IChannelGrain> ChannelAsync(string prefix, ChannelSettings settings)
    {
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId(prefix));
        await channel.ConfigureAsync(new ChannelConfig(prefix, true, settings, new RateLimitPolicy(20, 20)));
        return channel;
    }

    /// <summary>Enqueues the attacked message and a legitimate one behind it; both must end as <paramref name="first"/> and Delivered.</summary>
    private static async Task<(DeliveryStatus Attacked, DeliveryStatus Next)> SendBothAsync(IChannelGrain channel, DeliveryState first)
    {
        var attacked = await channel.EnqueueOkAsync("under attack");
        var next = await channel.EnqueueOkAsync("the next legitimate message");
        var attackedStatus = await channel.WaitForFinalAsync(attacked);
        var nextStatus = await channel.WaitForFinalAsync(next);
        Assert.Equal(first, attackedStatus.State);
        Assert.Equal(DeliveryState.Delivered, nextStatus.State);
        var info = await channel.GetInfoAsync();
        Assert.True(info!.Enabled, info.LastError);
        return (attackedStatus, nextStatus);
    }

    [Fact]
    public async Task Telegram_429_with_retry_after_1e300_pauses_the_channel_for_at_most_MaxPause_then_delivers()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await ChannelAsync("tg", new TelegramSettings(BotToken, chat));
        fx.Telegram.Script(new ScriptedResponse(429,
            """{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1e300","parameters":{"retry_after":1e300}}""", Json,
            Headers(("Retry-After", "1e300"))));

        // Delivered within the wait at all: the pause ended (MaxPause is 2 s here) instead of lasting 1e300 s.
        var (attacked, _) = await SendBothAsync(channel, DeliveryState.Delivered);

        Assert.True(attacked.Attempts >= 2);
        Assert.Contains(fx.Telegram.Requests, r => r.StatusCode == 429 && r.Body.Contains(chat));
        Assert.Equal(["under attack", "the next legitimate message"], fx.Telegram.Messages.Where(m => m.ChatId == chat).Select(m => m.Text));
    }

    [Fact]
    public async Task Telegram_200_that_is_not_a_bot_api_answer_is_retried_then_delivered_once()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await ChannelAsync("tg", new TelegramSettings(BotToken, chat));
        fx.Telegram.Script(new ScriptedResponse(200, """[{"ok":true,"result":{"message_id":1}}]""", Json));

        var (attacked, _) = await SendBothAsync(channel, DeliveryState.Delivered);

        Assert.Equal(2, attacked.Attempts);
        Assert.Single(fx.Telegram.Messages, m => m.ChatId == chat && m.Text == "under attack");
    }

    [Fact]
    public async Task Discord_429_with_NaN_everywhere_pauses_for_the_default_then_delivers()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var url = fx.Discord.CreateWebhook();
        var channel = await ChannelAsync("dc", new DiscordSettings(url));
        fx.Discord.Script(new ScriptedResponse(429, """{"message":"You are being rate limited.","retry_after":"NaN","global":false}""", Json,
            Headers(("Retry-After", "NaN"), ("X-RateLimit-Reset-After", "NaN"), ("X-RateLimit-Remaining", "0"))));

        var (attacked, _) = await SendBothAsync(channel, DeliveryState.Delivered);

        Assert.True(attacked.Attempts >= 2);
        var webhookId = new Uri(url).Segments[^2].TrimEnd('/');
        Assert.Equal(["under attack", "the next legitimate message"], fx.Discord.Messages.Where(m => m.WebhookId == webhookId).Select(m => m.Content));
    }

    [Fact]
    public async Task Discord_error_with_an_undecodable_message_is_dead_lettered_and_the_channel_goes_on()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var url = fx.Discord.CreateWebhook();
        var channel = await ChannelAsync("dc", new DiscordSettings(url));
        fx.Discord.Script(new ScriptedResponse(
            400,
            """{"message":"\ud800","code":1e400,"errors":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":{"r":1}}}}}}}}}}}}}}}}}}}""",
            Json));

        var (attacked, _) = await SendBothAsync(channel, DeliveryState.Failed);

        Assert.Equal("discord 400: HTTP 400", attacked.LastError);
        Assert.Equal(attacked.DeliveryId, Assert.Single(await channel.GetDeadLettersAsync()).DeliveryId);
    }

    [Fact]
    public async Task Slack_answering_ten_megabytes_is_delivered_without_reading_them()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var url = fx.Slack.CreateWebhook();
        var channel = await ChannelAsync("sl", new SlackSettings(url));
        var streamedBefore = fx.Slack.StreamedBodies.Count;
        fx.Slack.Script(new ScriptedResponse(200, "ok", "text/plain", PadBodyTo: 10L * 1024 * 1024));

        await SendBothAsync(channel, DeliveryState.Delivered);

        await fx.Slack.WaitUntilAsync(() => fx.Slack.StreamedBodies.Count > streamedBefore, because: "the fake finishes or abandons the body");
        var streamed = fx.Slack.StreamedBodies[streamedBefore];
        Assert.False(streamed.Completed, $"the silo read all {streamed.Written} bytes");
        // The scripted answer replaced the fake's handling, so only the next message is in its inbox.
        Assert.Equal(["the next legitimate message"], fx.Slack.Messages.Where(m => url.EndsWith(m.WebhookPath)).Select(m => m.Text));
    }

    [Fact]
    public async Task Webhook_503_with_deeply_nested_garbage_and_retry_after_Infinity_is_retried_then_delivered()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (url, secret) = fx.Webhooks.CreateEndpoint();
        var channel = await ChannelAsync("wh", new WebhookSettings(url, secret));
        fx.Webhooks.Script(new ScriptedResponse(503, new string('[', 100_000), Json, Headers(("Retry-After", "Infinity"))));

        var (attacked, next) = await SendBothAsync(channel, DeliveryState.Delivered);

        Assert.Equal(2, attacked.Attempts);
        Assert.Single(fx.Webhooks.Deliveries, d => d.WebhookId == attacked.DeliveryId);
        Assert.Single(fx.Webhooks.Deliveries, d => d.WebhookId == next.DeliveryId);
    }
}
