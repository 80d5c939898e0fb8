using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dovecote.Grains.Budgets;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;

namespace Dovecote.Tests.Budgets;

/// <summary>Platform limits that many channels share hold across both silos of a real cluster, against fakes that enforce them.</summary>
[Collection(SharedBudgetCollection.Name)]
public sealed class SharedBudgetTests(SharedBudgetClusterFixture fx)
{
    private const string Tenant = "budgets";
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Forty_chats_of_one_bot_on_two_silos_get_every_message_without_the_bot_ever_seeing_30_a_second()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var token = SharedBudgetClusterFixture.NewBotToken();
        var channels = await TelegramChannelsAsync(token, 40);

        await Task.WhenAll(channels.SelectMany(c => Enumerable.Range(0, 3).Select(m => c.Channel.EnqueueOkAsync($"{c.Chat} message {m}"))));

        await fx.Telegram.WaitUntilAsync(() => Accepted(token).Count >= 120, TimeSpan.FromSeconds(90), "all 120 messages of the bot");
        foreach (var (_, chat) in channels)
            Assert.Equal([$"{chat} message 0", $"{chat} message 1", $"{chat} message 2"],
                Accepted(token).Where(m => m.ChatId == chat).Select(m => m.Text).Distinct().Order());
        Assert.InRange(fx.Telegram.MaxAcceptedInAnyWindow(token, Second), 1, FakeTelegramServer.PerBotLimit);
        Assert.Equal(0, fx.Telegram.RateLimitedCount(token));
    }

    [Fact]
    public async Task One_chats_429_pauses_every_channel_of_the_bot_for_its_retry_after()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var token = SharedBudgetClusterFixture.NewBotToken();
        var channels = await TelegramChannelsAsync(token, 20);
        await Task.WhenAll(channels.SelectMany(c => Enumerable.Range(0, 4).Select(m => c.Channel.EnqueueOkAsync($"{c.Chat} message {m}"))));
        await fx.Telegram.WaitUntilAsync(() => Accepted(token).Count >= 10, TimeSpan.FromSeconds(30), "the channels are delivering");

        fx.Telegram.Script(FakeTelegramServer.RateLimited(3)); // the next sendMessage, whichever chat sends it
        await fx.Telegram.WaitUntilAsync(() => RequestsOf(token).Any(r => r.StatusCode == 429), because: "a chat got the 429");
        var pausedAt = RequestsOf(token).First(r => r.StatusCode == 429).ReceivedAt;

        // Every channel of the bot, not only the one that got it, says what holds it.
        var paused = 0;
        while (paused < 2 && DateTimeOffset.UtcNow < pausedAt.AddSeconds(2.5))
            paused = (await Task.WhenAll(channels.Select(c => c.Channel.GetInfoAsync()))).Count(i => i!.HealthText == "paused: bot budget");
        Assert.True(paused >= 2, $"{paused} channels showed the bot's pause");

        await fx.Telegram.WaitUntilAsync(() => Accepted(token).Count >= 80, TimeSpan.FromSeconds(90), "all 80 messages after the pause");
        // A request already on its way when the 429 was answered may still arrive; nothing is sent after that until it ends.
        var duringPause = RequestsOf(token).Where(r => r.ReceivedAt >= pausedAt + Second && r.ReceivedAt < pausedAt.AddSeconds(3)).ToList();
        Assert.Empty(duringPause);
        Assert.Contains(RequestsOf(token), r => r.ReceivedAt >= pausedAt.AddSeconds(3));
    }

    [Fact]
    public async Task A_429_on_one_Slack_webhook_pauses_the_other_webhooks_of_its_workspace()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var team = "T" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        var channels = new List<IChannelGrain>();
        for (var c = 0; c < 4; c++)
        {
            var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("sl"));
            await channel.ConfigureAsync(new ChannelConfig("Slack", true, new SlackSettings(fx.Slack.CreateWebhook(team))));
            channels.Add(channel);
        }
        List<RecordedRequest> Workspace() => fx.Slack.Requests.Where(r => r.Path.StartsWith($"/services/{team}/", StringComparison.Ordinal)).ToList();
        var ids = await Task.WhenAll(channels.SelectMany(c => Enumerable.Range(0, 5).Select(m => c.EnqueueOkAsync($"message {m}"))));
        await fx.Slack.WaitUntilAsync(() => Workspace().Count(r => r.StatusCode == 200) >= 4, because: "the workspace's channels are delivering");

        fx.Slack.Script(FakeSlackServer.RateLimited(3));
        await fx.Slack.WaitUntilAsync(() => Workspace().Any(r => r.StatusCode == 429), because: "a webhook got the 429");
        var pausedAt = Workspace().First(r => r.StatusCode == 429).ReceivedAt;
        var finals = await Task.WhenAll(ids.Select((id, i) => channels[i / 5].WaitForFinalAsync(id, TimeSpan.FromSeconds(60))));

        Assert.All(finals, f => Assert.Equal(DeliveryState.Delivered, f.State));
        Assert.DoesNotContain(Workspace(), r => r.ReceivedAt >= pausedAt + Second && r.ReceivedAt < pausedAt.AddSeconds(3));
    }

    [Fact]
    public async Task A_bot_token_refused_once_disables_every_channel_using_it_and_a_reconfigured_one_may_try_again()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var token = SharedBudgetClusterFixture.NewBotToken();
        var channels = await TelegramChannelsAsync(token, 7);
        var idle = channels[^1].Channel; // configured before the token is refused, and has never sent
        // Six channels deliver once, so the bot's budget knows them.
        foreach (var (channel, chat) in channels[..^1])
            Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(await channel.EnqueueOkAsync($"{chat} hello"))).State);

        fx.Telegram.Script(new ScriptedResponse(401, """{"ok":false,"error_code":401,"description":"Unauthorized"}"""));
        var refused = await channels[0].Channel.EnqueueOkAsync("refused");
        Assert.Equal(DeliveryState.Failed, (await channels[0].Channel.WaitForFinalAsync(refused)).State);

        // The five others are disabled with no message of their own to send.
        var infos = await WaitForAsync(channels[..^1].Select(c => c.Channel), i => !i.Enabled, "every channel that used the token is disabled");
        Assert.All(infos, i => Assert.Contains("Unauthorized", i.LastError));

        // One that never leased learns it at its first attempt, before sending; its message waits, not lost.
        var waiting = await idle.EnqueueOkAsync("held back");
        var idleInfo = (await WaitForAsync([idle], i => !i.Enabled, "the idle channel is disabled"))[0];
        Assert.Contains("Unauthorized", idleInfo.LastError);
        Assert.Equal(DeliveryState.Queued, (await idle.GetDeliveryAsync(waiting))!.State);
        Assert.Equal(7, RequestsOf(token).Count); // six hellos and the one 401

        // An operator who fixed the token reconfigures: the channel is not held to the old refusal.
        var (second, secondChat) = channels[1];
        await second.ConfigureAsync(new ChannelConfig("Telegram", true, new TelegramSettings(token, secondChat)));
        Assert.Equal(DeliveryState.Delivered, (await second.WaitForFinalAsync(await second.EnqueueOkAsync("fixed"))).State);
    }

    [Fact]
    public async Task Discord_webhooks_reporting_one_bucket_stay_within_it_together()
    {
        using var tenant = TenantContext.Enter(Tenant);
        var bucket = Guid.NewGuid().ToString("N");
        var urls = new[] { fx.Discord.CreateWebhook(bucket), fx.Discord.CreateWebhook(bucket) };
        var channels = new List<IChannelGrain>();
        foreach (var url in urls)
        {
            var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("dc"));
            await channel.ConfigureAsync(new ChannelConfig("Discord", true, new DiscordSettings(url)));
            channels.Add(channel);
        }
        var rateLimitedBefore = fx.Discord.RateLimitedCount;

        var ids = await Task.WhenAll(channels.SelectMany(c => Enumerable.Range(0, 6).Select(m => c.EnqueueOkAsync($"message {m}"))));
        var finals = await Task.WhenAll(ids.Select((id, i) => channels[i / 6].WaitForFinalAsync(id, TimeSpan.FromSeconds(60))));

        Assert.All(finals, f => Assert.Equal(DeliveryState.Delivered, f.State));
        Assert.Equal(12, fx.Discord.MaxAcceptedInAnyWindow(urls, TimeSpan.FromMinutes(5)));
        Assert.Equal(rateLimitedBefore, fx.Discord.RateLimitedCount); // each alone at 5 per 2 s, together they would be twice that
    }

    [Fact]
    public async Task Dead_webhooks_of_one_tenant_stop_at_the_invalid_answer_threshold_and_another_tenant_still_delivers()
    {
        using var listener = new MeterListener();
        var gauges = new ConcurrentDictionary<string, long>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == BudgetMetrics.MeterName && instrument.Name.StartsWith("dovecote.egress.", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "platform", Value: "discord" }) gauges[instrument.Name] = value;
        });
        listener.Start();

        var careless = new List<IChannelGrain>();
        using (TenantContext.Enter("careless"))
        {
            for (var c = 0; c < 10; c++)
            {
                var url = fx.Discord.CreateWebhook();
                fx.Discord.ForbidWebhook(url);
                var channel = fx.Client.Channel("careless", ChannelTestKit.UniqueId("dead"));
                await channel.ConfigureAsync(new ChannelConfig("Dead", true, new DiscordSettings(url)));
                careless.Add(channel);
            }
            await Task.WhenAll(careless.SelectMany(c => Enumerable.Range(0, 5).Select(m => c.EnqueueOkAsync($"nobody reads {m}"))));

            // Each channel either disabled itself (five dead answers in a row) or is held by the platform's budget.
            var infos = await WaitForAsync(careless, i => !i.Enabled || i.Hold is not null, "every dead channel is disabled or held");
            Assert.Contains(infos, i => i.Enabled && i.HealthText == "held: Discord invalid-request budget" && i.Pending > 0);
        }
        var forbidden = fx.Discord.Requests.Count(r => r.StatusCode == 403);
        // The threshold, plus at most one answer per channel already on its way; 50 without the budget.
        Assert.InRange(forbidden, SharedBudgetClusterFixture.InvalidAnswerThreshold, SharedBudgetClusterFixture.InvalidAnswerThreshold + careless.Count);

        using (TenantContext.Enter("careful"))
        {
            var channel = fx.Client.Channel("careful", ChannelTestKit.UniqueId("dc"));
            await channel.ConfigureAsync(new ChannelConfig("Healthy", true, new DiscordSettings(fx.Discord.CreateWebhook())));
            Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(await channel.EnqueueOkAsync("still delivered"))).State);
        }

        listener.RecordObservableInstruments();
        Assert.True(gauges.GetValueOrDefault("dovecote.egress.invalid_answers") >= SharedBudgetClusterFixture.InvalidAnswerThreshold,
            $"invalid answers gauge: {gauges.GetValueOrDefault("dovecote.egress.invalid_answers")}");
        Assert.Equal(1, gauges.GetValueOrDefault("dovecote.egress.held"));
    }

    /// <summary>Telegram channels of one bot, each its own chat, every other one on the second silo.</summary>
    private async Task<List<(IChannelGrain Channel, string Chat)>> TelegramChannelsAsync(string token, int count)
    {
        var channels = new List<(IChannelGrain, string)>();
        for (var c = 0; c < count; c++)
        {
            var chat = ChannelTestKit.UniqueChatId();
            var channel = fx.Client.Channel(Tenant, ChannelTestKit.UniqueId("tg"));
            await channel.ConfigureAsync(new ChannelConfig("Telegram", true, new TelegramSettings(token, chat)));
            await fx.Cluster.PlaceOnAsync(channel, fx.Cluster.Silos[c % 2].SiloAddress);
            channels.Add((channel, chat));
        }
        return channels;
    }

    /// <summary>Polls the channels' public view until every one meets <paramref name="condition"/>.</summary>
    private static async Task<List<ChannelInfo>> WaitForAsync(IEnumerable<IChannelGrain> channels, Func<ChannelInfo, bool> condition, string because)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var infos = (await Task.WhenAll(channels.Select(c => c.GetInfoAsync()))).Select(i => i!).ToList();
            if (infos.All(condition)) return infos;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out waiting until {because}: {string.Join("; ", infos.Select(i => $"{i.ChannelId} {i.HealthText} {i.LastError}"))}");
            await Task.Delay(100);
        }
    }

    private List<TelegramMessage> Accepted(string token) => fx.Telegram.Messages.Where(m => m.Token == token).ToList();

    private List<RecordedRequest> RequestsOf(string token) => fx.Telegram.Requests.Where(r => r.Path.Contains($"/bot{token}/", StringComparison.Ordinal)).ToList();
}
