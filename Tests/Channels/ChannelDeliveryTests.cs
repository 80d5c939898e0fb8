using System.Text.Json;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Fakes;

namespace Dovecote.Tests.Channels;

[Collection(DeliveryClusterCollection.Name)]
public sealed class ChannelDeliveryTests(DeliveryClusterFixture fx)
{
    private const string Tenant = "acme";
    private const string BotToken = "123456:test-token-abcdef";

    private async Task<IChannelGrain> TelegramChannelAsync(string chatId, RateLimitPolicy? rateLimit = null)
    {
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("tg"));
        await channel.ConfigureAsync(new ChannelConfig("Telegram", true, new TelegramSettings(BotToken, chatId), rateLimit));
        return channel;
    }

    private async Task<(IChannelGrain Channel, string WebhookUrl)> DiscordChannelAsync(RateLimitPolicy? rateLimit = null)
    {
        var url = fx.Discord.CreateWebhook();
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("dc"));
        await channel.ConfigureAsync(new ChannelConfig("Discord", true, new DiscordSettings(url), rateLimit));
        return (channel, url);
    }

    private async Task<(IChannelGrain Channel, string WebhookUrl)> SlackChannelAsync()
    {
        var url = fx.Slack.CreateWebhook();
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("sl"));
        await channel.ConfigureAsync(new ChannelConfig("Slack", true, new SlackSettings(url)));
        return (channel, url);
    }

    private static string WebhookIdOf(string discordUrl) => new Uri(discordUrl).Segments[^2].TrimEnd('/');

    [Fact]
    public async Task Telegram_delivers_html_with_the_message_id_as_receipt()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await TelegramChannelAsync(chat);

        var id = await channel.EnqueueOkAsync("Build **passed** in <3 min", title: "CI");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        var sent = Assert.Single(fx.Telegram.Messages, m => m.ChatId == chat);
        Assert.Equal("HTML", sent.ParseMode);
        Assert.Equal(BotToken, sent.Token);
        Assert.Contains("<b>passed</b>", sent.Text);
        Assert.Contains("&lt;3 min", sent.Text);
        Assert.Equal([sent.MessageId.ToString()], status.MessageIds);
    }

    [Fact]
    public async Task Discord_delivers_without_mentions_and_returns_the_message_id()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, url) = await DiscordChannelAsync();

        var id = await channel.EnqueueOkAsync("Deploy done @everyone");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        var sent = Assert.Single(fx.Discord.Messages, m => m.WebhookId == WebhookIdOf(url));
        Assert.Equal([sent.Id], status.MessageIds);
        using var mentions = JsonDocument.Parse(sent.AllowedMentionsJson!);
        Assert.Empty(mentions.RootElement.GetProperty("parse").EnumerateArray());
    }

    [Fact]
    public async Task Slack_delivers_mrkdwn()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, url) = await SlackChannelAsync();

        var id = await channel.EnqueueOkAsync("Release **v2** is out");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        var sent = Assert.Single(fx.Slack.Messages, m => url.EndsWith(m.WebhookPath));
        Assert.Contains("*v2*", sent.Text);
        Assert.True(sent.Mrkdwn);
    }

    [Fact]
    public async Task Webhook_delivers_a_signed_payload_with_the_delivery_id_as_webhook_id()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (url, secret) = fx.Webhooks.CreateEndpoint();
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("wh"));
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret)));

        var id = await channel.EnqueueOkAsync("disk almost full");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        var delivery = Assert.Single(fx.Webhooks.Deliveries, d => d.WebhookId == id); // only signature-valid deliveries are recorded
        using var body = JsonDocument.Parse(delivery.Body);
        Assert.Equal("disk almost full", body.RootElement.GetProperty("data").GetProperty("message").GetString());
        Assert.Equal(id, body.RootElement.GetProperty("data").GetProperty("delivery_id").GetString());
    }

    [Fact]
    public async Task A_long_message_is_split_into_chunks_with_nothing_lost()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await TelegramChannelAsync(chat, new RateLimitPolicy(50, 50));
        const int words = 3_000; // about 17,000 characters: five Telegram messages

        var id = await channel.EnqueueOkAsync(ChannelTestKit.NumberedWords(words));
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        var sent = fx.Telegram.Messages.Where(m => m.ChatId == chat).ToList();
        Assert.True(sent.Count >= 5, $"expected at least 5 chunks, got {sent.Count}");
        Assert.All(sent, m => Assert.True(m.Text.Length <= 4096));
        ChannelTestKit.AssertAllWordsInOrder(sent.Select(m => m.Text), words);
        Assert.Equal(sent.Select(m => m.MessageId.ToString()), status.MessageIds);
    }

    [Fact]
    public async Task Markup_the_platform_rejects_is_resent_once_as_plain_text()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await TelegramChannelAsync(chat);
        fx.Telegram.Script(FakeTelegramServer.CantParseEntities());

        var id = await channel.EnqueueOkAsync("some *formatted* text");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        var sent = Assert.Single(fx.Telegram.Messages, m => m.ChatId == chat);
        Assert.Null(sent.ParseMode);
        Assert.Equal("some formatted text", sent.Text);
    }

    [Fact]
    public async Task A_429_pauses_the_whole_channel_for_retry_after_then_delivers_everything_in_order()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await TelegramChannelAsync(chat, new RateLimitPolicy(10, 10));
        fx.Telegram.Script(FakeTelegramServer.RateLimited(2));
        var before = fx.Telegram.Requests.Count;

        var ids = new List<string>();
        for (var i = 0; i < 4; i++) ids.Add(await channel.EnqueueOkAsync($"message {i}"));
        foreach (var id in ids) Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(id)).State);

        var requests = fx.Telegram.Requests.Skip(before).Where(r => r.Body.Contains(chat)).ToList();
        var limited = requests.First(r => r.StatusCode == 429);
        var after = requests.Where(r => r.ReceivedAt > limited.ReceivedAt).ToList();
        Assert.NotEmpty(after);
        Assert.All(after, r => Assert.True(r.ReceivedAt - limited.ReceivedAt >= TimeSpan.FromSeconds(1.95),
            $"a request came {(r.ReceivedAt - limited.ReceivedAt).TotalMilliseconds:F0} ms after a 2 s retry_after"));
        Assert.Equal(["message 0", "message 1", "message 2", "message 3"], fx.Telegram.Messages.Where(m => m.ChatId == chat).Select(m => m.Text));
    }

    [Fact]
    public async Task A_message_pending_when_the_channel_changes_platform_is_rendered_for_the_new_one()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await TelegramChannelAsync(chat);
        fx.Telegram.Script(FakeTelegramServer.RateLimited(2));

        var id = await channel.EnqueueOkAsync("Build **passed**");
        await fx.Telegram.WaitUntilAsync(() => fx.Telegram.Requests.Any(r => r.StatusCode == 429 && r.Body.Contains(chat)), because: "the 429");
        var url = fx.Discord.CreateWebhook();
        await channel.ConfigureAsync(new ChannelConfig("Discord now", true, new DiscordSettings(url)));
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        var sent = Assert.Single(fx.Discord.Messages, m => m.WebhookId == WebhookIdOf(url));
        Assert.Equal("Build **passed**", sent.Content);
    }

    [Fact]
    public async Task A_429_on_a_later_chunk_loses_nothing_and_repeats_nothing()
    {
        using var tenant = TenantContext.Enter(Tenant);
        // One send per 2 s, so the test can script the 429 between the first and second chunk.
        var (channel, url) = await DiscordChannelAsync(new RateLimitPolicy(1, 0.5));
        var webhookId = WebhookIdOf(url);
        const int words = 1_000; // about 5,000 characters: three Discord messages

        var id = await channel.EnqueueOkAsync(ChannelTestKit.NumberedWords(words));
        await fx.Discord.WaitUntilAsync(() => fx.Discord.Messages.Any(m => m.WebhookId == webhookId), because: "the first chunk");
        fx.Discord.Script(FakeDiscordServer.RateLimited(1.0));
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        Assert.Contains(fx.Discord.Requests, r => r.StatusCode == 429 && r.Path.Contains(webhookId));
        var sent = fx.Discord.Messages.Where(m => m.WebhookId == webhookId).ToList();
        Assert.True(sent.Count >= 3);
        ChannelTestKit.AssertAllWordsInOrder(sent.Select(m => m.Content), words);
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff_until_delivered()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, url) = await SlackChannelAsync();
        fx.Slack.Script(FakeSlackServer.ServerError(), FakeSlackServer.ServerError());

        var id = await channel.EnqueueOkAsync("eventually");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        Assert.Equal(3, status.Attempts);
        var requests = fx.Slack.Requests.Where(r => url.EndsWith(r.Path)).ToList();
        Assert.Equal([500, 500, 200], requests.Select(r => r.StatusCode));
        // Equal jitter keeps each wait at least half the step: 0.1 s, then 0.2 s.
        Assert.True(requests[1].ReceivedAt - requests[0].ReceivedAt >= TimeSpan.FromMilliseconds(90));
        Assert.True(requests[2].ReceivedAt - requests[1].ReceivedAt >= TimeSpan.FromMilliseconds(190));
    }

    [Fact]
    public async Task A_timeout_is_retried()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (url, secret) = fx.Webhooks.CreateEndpoint();
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("wh"));
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret)));
        fx.Webhooks.Script(new ScriptedResponse(200, "{}", Delay: TimeSpan.FromSeconds(20)));

        var id = await channel.EnqueueOkAsync("slow endpoint");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        Assert.Equal(2, status.Attempts);
        Assert.Single(fx.Webhooks.Deliveries, d => d.WebhookId == id);
    }

    [Fact]
    public async Task A_permanent_error_is_dead_lettered_and_redrive_delivers_it()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await TelegramChannelAsync(chat);
        fx.Telegram.Script(FakeTelegramServer.ChatNotFound());

        var id = await channel.EnqueueOkAsync("to a chat that is not there yet");
        var failed = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Failed, failed.State);
        Assert.Contains("chat not found", failed.LastError);
        var dead = Assert.Single(await channel.GetDeadLettersAsync());
        Assert.Equal(id, dead.DeliveryId);
        Assert.DoesNotContain(fx.Telegram.Messages, m => m.ChatId == chat);

        Assert.Equal(1, await channel.RedriveAsync(id));
        var redriven = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, redriven.State);
        Assert.Empty(await channel.GetDeadLettersAsync());
        Assert.Single(fx.Telegram.Messages, m => m.ChatId == chat);
    }

    [Fact]
    public async Task Retries_that_never_succeed_are_dead_lettered_within_the_attempt_budget()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, _) = await SlackChannelAsync();
        fx.Slack.Script(Enumerable.Repeat(FakeSlackServer.ServerError(), 4).ToArray());

        var id = await channel.EnqueueOkAsync("never arrives");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Failed, status.State);
        Assert.Equal(4, status.Attempts); // Delivery:MaxAttempts in the fixture
        Assert.Contains("gave up after 4", status.LastError);
    }

    [Fact]
    public async Task A_deleted_webhook_dead_letters_and_disables_the_channel()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, url) = await DiscordChannelAsync();
        fx.Discord.DeleteWebhook(url);

        var id = await channel.EnqueueOkAsync("into the void");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Failed, status.State);
        Assert.Contains("Unknown Webhook", status.LastError);
        var info = await channel.GetInfoAsync();
        Assert.NotNull(info);
        Assert.Equal(ChannelHealth.Disabled, info.Health);
        Assert.False(info.Enabled);
        var refused = await channel.EnqueueAsync(new Notification("after"), null);
        Assert.Equal(EnqueueRejection.ChannelDisabled, refused.Rejection);
    }

    [Fact]
    public async Task The_same_idempotency_key_returns_the_same_delivery_and_sends_once()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await TelegramChannelAsync(chat);

        var first = await channel.EnqueueAsync(new Notification("only once"), "key-1");
        var second = await channel.EnqueueAsync(new Notification("only once"), "key-1");
        var later = await channel.EnqueueOkAsync("a later message");
        await channel.WaitForFinalAsync(later);

        Assert.Equal(first.DeliveryId, second.DeliveryId);
        Assert.False(first.Duplicate);
        Assert.True(second.Duplicate);
        Assert.Single(fx.Telegram.Messages, m => m.ChatId == chat && m.Text == "only once");
    }

    [Fact]
    public async Task A_migrated_telegram_group_is_followed()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var oldChat = "-" + ChannelTestKit.UniqueChatId();
        var newChat = -1_000_000_000_000 - long.Parse(ChannelTestKit.UniqueChatId());
        fx.Telegram.MigratedChats[oldChat] = newChat;
        var channel = await TelegramChannelAsync(oldChat);

        var id = await channel.EnqueueOkAsync("to the supergroup");
        var status = await channel.WaitForFinalAsync(id);

        Assert.Equal(DeliveryState.Delivered, status.State);
        Assert.Single(fx.Telegram.Messages, m => m.ChatId == newChat.ToString());
        Assert.Equal(newChat.ToString(), (await channel.GetInfoAsync())!.Settings["chatId"]);
    }

    [Fact]
    public async Task A_full_outbox_refuses_new_messages_instead_of_dropping_them()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var (channel, _) = await SlackChannelAsync();
        fx.Slack.Script(FakeSlackServer.RateLimited(60)); // the channel pauses for a minute

        var results = new List<EnqueueResult>();
        for (var i = 0; i < 25; i++) results.Add(await channel.EnqueueAsync(new Notification($"m{i}"), null));

        Assert.Equal(20, results.Count(r => r.Accepted)); // Delivery:OutboxCapacity in the fixture
        Assert.All(results.Skip(20), r => Assert.Equal(EnqueueRejection.OutboxFull, r.Rejection));
        Assert.Equal(20, (await channel.GetInfoAsync())!.Pending);
        await channel.DeleteAsync();
    }

    [Fact]
    public async Task Bad_input_gets_clear_errors()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("bad"));

        var missing = await channel.EnqueueAsync(new Notification("hi"), null);
        Assert.Equal(EnqueueRejection.ChannelNotFound, missing.Rejection);

        var badToken = await Assert.ThrowsAsync<ArgumentException>(() => channel.ConfigureAsync(new ChannelConfig("x", true, new TelegramSettings("", "1"))));
        Assert.Equal("botToken is required", badToken.Message);
        var badSecret = await Assert.ThrowsAsync<ArgumentException>(
            () => channel.ConfigureAsync(new ChannelConfig("x", true, new WebhookSettings("https://example.com/h", "nope"))));
        Assert.Contains("whsec_", badSecret.Message);

        await channel.ConfigureAsync(new ChannelConfig("x", true, new TelegramSettings(BotToken, ChannelTestKit.UniqueChatId())));
        var empty = await channel.EnqueueAsync(new Notification("  "), null);
        Assert.Equal(EnqueueRejection.InvalidMessage, empty.Rejection);
        var badUrl = await channel.EnqueueAsync(new Notification("hi", Url: "javascript:alert(1)"), null);
        Assert.Equal("url must be an absolute http(s) URL", badUrl.Error);
    }

    [Fact]
    public async Task Secrets_are_masked_on_read_and_encrypted_at_rest()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var token = "987654:very-secret-token-value";
        var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("sec"));

        var info = await channel.ConfigureAsync(new ChannelConfig("Secret", true, new TelegramSettings(token, "42")));

        Assert.Equal("9876****", info.Settings["botToken"]);
        Assert.DoesNotContain(token, info.ToString());
        var stored = fx.Log.Scan("").Select(e => System.Text.Encoding.UTF8.GetString(e.Value.Data.Span)).ToList();
        Assert.Contains(stored, s => s.Contains("\"ProtectedSettings\":\"v1.")); // the state is there ...
        Assert.DoesNotContain(stored, s => s.Contains("very-secret-token")); // ... without the token in clear
    }

    [Fact]
    public async Task A_call_into_another_tenants_channel_is_refused()
    {
        var theirs = fx.Client.Channel("globex", ChannelTestKit.UniqueId("tg"));
        using (TenantContext.Enter("globex"))
            await theirs.ConfigureAsync(new ChannelConfig("Theirs", true, new TelegramSettings(BotToken, "7")));

        using (TenantContext.Enter(Tenant))
        {
            await Assert.ThrowsAsync<TenantIsolationException>(() => theirs.EnqueueAsync(new Notification("hi"), null));
            await Assert.ThrowsAsync<TenantIsolationException>(() => theirs.GetInfoAsync());
        }

        Assert.Null(TenantContext.Current);
        await Assert.ThrowsAsync<TenantIsolationException>(() => theirs.GetInfoAsync());
    }
}
