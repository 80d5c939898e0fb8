using System.Globalization;
using Dovecote.Grains.Interfaces.Audit;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.Audit;

/// <summary>
/// The audit events of one tenant for one UTC day, keyed "{tenant}/{yyyy-MM-dd}". Append-only and durable before
/// an append returns; a reminder armed by the day's first event deletes the day once it is 90 days old.
/// </summary>
// Reentrant so concurrent appends share state writes (Orleans coalesces queued writes) instead of queueing one turn each.
[GrainType("audit"), Reentrant]
public sealed class AuditLogGrain(
    [PersistentState("audit")] IPersistentState<AuditLogState> state,
    TimeProvider time,
    ILogger<AuditLogGrain> logger) : Grain, IAuditLogGrain, IRemindable
{
    public const int MaxEventsPerDay = 50_000;
    public const string ExpireReminder = "expire";
    public static readonly TimeSpan Retention = TimeSpan.FromDays(90);
    private const int MaxFieldLength = 1_000;
    private long _dropped;

    private string Key => this.GetPrimaryKeyString();

    async Task IAuditLogGrain.AppendAsync(AuditEvent auditEvent)
    {
        var (tenant, day) = ParseKey();
        if (auditEvent is null) throw new ArgumentException("an audit event is required");
        if (auditEvent.Tenant != tenant)
            throw new ArgumentException($"the event belongs to tenant '{auditEvent.Tenant}', not to '{tenant}'");
        if (new[] { auditEvent.Actor, auditEvent.Action, auditEvent.Target, auditEvent.Detail, auditEvent.RemoteAddress }.Any(f => f?.Length > MaxFieldLength))
            throw new ArgumentException($"audit event fields are at most {MaxFieldLength} characters");

        if (state.State.Events.Count >= MaxEventsPerDay)
        {
            // Refusing would fail the audited action itself; the day is bounded instead, and the operator is told.
            if (++_dropped % 1_000 == 1)
                logger.LogWarning("Audit log {Key} holds {Max} events, the daily cap: dropped {Dropped} events so far", Key, MaxEventsPerDay, _dropped);
            return;
        }

        // The day's first event arms its expiry. The reminder is stored, so this happens once per day, not per activation;
        // it comes first so that no stored day is ever left without one.
        if (state.State.Events.Count == 0)
            await this.RegisterOrUpdateReminder(ExpireReminder, ExpiryDueTime(day), TimeSpan.FromDays(1));

        state.State.Events.Add(auditEvent);
        await state.WriteOrReloadAsync(this); // an unsaved event must not be served by this activation
    }

    Task<IReadOnlyList<AuditEvent>> IAuditLogGrain.ReadAsync() => Task.FromResult<IReadOnlyList<AuditEvent>>(state.State.Events.ToList());

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ExpireReminder) return;
        // Ticks daily after the first, so a tick that came early only postpones the deletion by a day.
        if (time.GetUtcNow() < ExpiresAt(ParseKey().Day)) return;

        await state.ClearStateAsync();
        if (await this.GetReminder(ExpireReminder) is { } reminder) await this.UnregisterReminder(reminder);
        logger.LogInformation("Audit log {Key} deleted after {Days} days", Key, Retention.TotalDays);
        DeactivateOnIdle();
    }

    private static DateTimeOffset ExpiresAt(DateOnly day) => new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) + Retention;

    /// <summary>Until the day is 90 days old; at least a minute, so a day appended to after that is still deleted soon.</summary>
    private TimeSpan ExpiryDueTime(DateOnly day)
    {
        var due = ExpiresAt(day) - time.GetUtcNow();
        return due < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : due;
    }

    private (string Tenant, DateOnly Day) ParseKey()
    {
        var (tenant, id) = GrainKeys.Split(Key);
        if (!DateOnly.TryParseExact(id, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            throw new ArgumentException($"'{Key}' is not a '{{tenant}}/{{yyyy-MM-dd}}' audit key");
        return (tenant, day);
    }
}
