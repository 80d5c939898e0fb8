using Dovecote.Grains.Interfaces.Audit;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Tenants;

namespace Dovecote.Tests.Audit;

[Collection(GrainClusterCollection.Name)]
public sealed class AuditLogGrainTests(GrainClusterFixture fx)
{
    private static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    private IAuditLogGrain Day(string tenant, DateOnly day) => fx.Client.GetGrain<IAuditLogGrain>(GrainKeys.AuditDay(tenant, day));

    private static AuditEvent Event(string tenant, string action, string target = "telegram-ops") =>
        new(DateTimeOffset.UtcNow, tenant, "apikey:k3x9a2b7q1p0", action, target, RemoteAddress: "203.0.113.9");

    [Fact]
    public async Task Appended_events_are_durable_and_read_back_in_order()
    {
        var tenant = GrainClusterFixture.UniqueTenant("audit");
        using var scope = TenantContext.Enter(tenant);
        var log = Day(tenant, Today);
        var events = new[] { Event(tenant, "channel.put"), Event(tenant, "notification.send"), Event(tenant, "env.read", "prod") };

        foreach (var e in events) await log.AppendAsync(e);
        await fx.Cluster.DeactivateAsync(log);

        Assert.Equal(events, await log.ReadAsync());
    }

    [Fact]
    public async Task An_event_of_another_tenant_is_refused()
    {
        var tenant = GrainClusterFixture.UniqueTenant("audit");
        using var scope = TenantContext.Enter(tenant);
        var log = Day(tenant, Today);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(Event("globex", "channel.put")));

        Assert.Contains("globex", error.Message);
        Assert.Empty(await log.ReadAsync());
    }

    [Fact]
    public async Task The_first_append_arms_the_expiry_reminder()
    {
        var tenant = GrainClusterFixture.UniqueTenant("audit");
        using var scope = TenantContext.Enter(tenant);
        var log = Day(tenant, Today);
        Assert.DoesNotContain(fx.StoredText("reminders/"), r => r.Key.Contains($"/audit/{tenant}/"));

        await log.AppendAsync(Event(tenant, "channel.put"));
        await log.AppendAsync(Event(tenant, "channel.delete"));

        var reminder = Assert.Single(fx.StoredText("reminders/"), r => r.Key.Contains($"/audit/{tenant}/"));
        Assert.EndsWith($"/audit/{GrainKeys.AuditDay(tenant, Today)}/expire", reminder.Key);
        Assert.Contains("\"Period\":\"1.00:00:00\"", reminder.Text);
    }

    [Fact]
    public async Task A_reminder_tick_deletes_a_day_older_than_90_days_and_keeps_a_younger_one()
    {
        var tenant = GrainClusterFixture.UniqueTenant("audit");
        using var scope = TenantContext.Enter(tenant);
        var old = Day(tenant, Today.AddDays(-91));
        var young = Day(tenant, Today.AddDays(-89));
        await old.AppendAsync(Event(tenant, "channel.put"));
        await young.AppendAsync(Event(tenant, "channel.put"));

        // Deliver the tick the reminder service would (the old day's is due in a minute, the young day's in a day).
        var tick = new TickStatus(DateTime.UtcNow, TimeSpan.FromDays(1), DateTime.UtcNow);
        await old.AsReference<IRemindable>().ReceiveReminder("expire", tick, TestContext.Current.CancellationToken);
        await young.AsReference<IRemindable>().ReceiveReminder("expire", tick, TestContext.Current.CancellationToken);

        Assert.Empty(await old.ReadAsync());
        Assert.Single(await young.ReadAsync());
        var stored = fx.StoredText();
        Assert.DoesNotContain(stored, r => r.Key.Contains($"/audit/{GrainKeys.AuditDay(tenant, Today.AddDays(-91))}"));
        Assert.Contains(stored, r => r.Key.StartsWith("reminders/") && r.Key.Contains($"/audit/{GrainKeys.AuditDay(tenant, Today.AddDays(-89))}/"));
    }

    [Fact]
    public async Task A_call_into_another_tenants_audit_log_is_refused()
    {
        var tenant = GrainClusterFixture.UniqueTenant("audit");
        using var scope = TenantContext.Enter("globex");

        await Assert.ThrowsAsync<TenantIsolationException>(() => Day(tenant, Today).ReadAsync());
    }
}
