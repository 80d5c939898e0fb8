using Dovecote.Grains.Interfaces.Budgets;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;

namespace Dovecote.Tests.Budgets;

public sealed class SharedBudgetFailoverTests
{
    [Fact]
    public async Task Killing_the_silo_of_a_bots_budget_leaves_no_channel_blocked_and_loses_nothing()
    {
        await using var telegram = new FakeTelegramServer { EnforcePerBotLimit = true, EnforcePerChatLimit = true };
        await telegram.StartAsync();
        var settings = DeliveryClusterFixture.DeliverySettings(telegram.BaseUrl);
        settings["Delivery:MaxAttempts"] = "100"; // the kill must not exhaust any retry budget, however slow the machine
        await using var own = await OwnDeliveryCluster.StartAsync(settings);
        var cluster = own.Cluster;
        using var tenant = TenantContext.Enter("acme");
        var token = SharedBudgetClusterFixture.NewBotToken();
        var victim = cluster.Silos[1];
        var channels = new List<(IChannelGrain Channel, string Chat)>();
        for (var c = 0; c < 20; c++)
        {
            var chat = ChannelTestKit.UniqueChatId();
            var channel = cluster.Client.Channel("acme", $"budget-failover-{c}");
            await channel.ConfigureAsync(new ChannelConfig($"C{c}", true, new TelegramSettings(token, chat)));
            await cluster.PlaceOnAsync(channel, cluster.Silos[c % 2].SiloAddress);
            channels.Add((channel, chat));
        }
        // The bot's budget exists once a channel has leased from it; it goes where the silo that dies is.
        var (first, firstChat) = channels[0];
        Assert.Equal(DeliveryState.Delivered, (await first.WaitForFinalAsync(await first.EnqueueOkAsync($"{firstChat} warm-up"))).State);
        var budget = cluster.Client.GetGrain<IDestinationBudgetGrain>(BudgetKeys.ForTelegramBot(token));
        await cluster.PlaceOnAsync(budget, victim.SiloAddress);

        var expected = channels.SelectMany(c => Enumerable.Range(0, 4).Select(m => (c.Chat, Text: $"{c.Chat} message {m}"))).ToList();
        await Task.WhenAll(channels.SelectMany(c => Enumerable.Range(0, 4).Select(m => c.Channel.EnqueueOkAsync($"{c.Chat} message {m}"))));
        await telegram.WaitUntilAsync(() => telegram.Messages.Count(m => m.Token == token) >= 20, TimeSpan.FromSeconds(60), "delivery under way");

        await cluster.KillSiloAsync(victim, TestContext.Current.CancellationToken);

        // Leases of the dead budget end by themselves; the killed silo's channels come back by their reminders.
        await telegram.WaitUntilAsync(
            () => telegram.Messages.Where(m => m.Token == token).Select(m => m.Text).Distinct().Count() >= expected.Count + 1,
            TimeSpan.FromSeconds(90), "every message after the kill");
        foreach (var (channel, chat) in channels)
            Assert.Equal(
                expected.Where(e => e.Chat == chat).Select(e => e.Text),
                telegram.Messages.Where(m => m.Token == token && m.ChatId == chat && m.Text != $"{chat} warm-up").Select(m => m.Text).Distinct().Order());
    }
}
