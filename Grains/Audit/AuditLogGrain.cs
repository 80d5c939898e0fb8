using System.Globalization;
using Dovecote.Grains.Interfaces.Audit;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.Audit;

/// <summary>
/// The audit events of one tenant for one UTC day, keyed "{tenant}/{yyyy-MM-dd}". Append-only and durable before an append
/// returns. The events live in segment grains "{key}/{n}" of bounded size, so nothing is dropped however busy the day, and
/// this grain holds only their count (plus the events of a day stored before segments, read as segment 0). A reminder armed
/// by the day's first event deletes the day and its segments once it is 90 days old.
/// </summary>
// Reentrant so concurrent appends overlap their segment calls instead of queueing one turn each.
[GrainType("audit"), Reentrant]
public sealed class AuditLogGrain(
    [PersistentState("audit")] IPersistentState<AuditLogState> state,
    IOptions<AuditOptions> options,
    TimeProvider time,
    ILogger<AuditLogGrain> logger) : Grain, IAuditLogGrain, IRemindable
{
    public const string ExpireReminder = "expire";
    public static readonly TimeSpan Retention = TimeSpan.FromDays(90);
    public const int MaxPageSize = 5_000;
    private const int MaxFieldLength = 1_000;
    /// <summary>Events per append: a batch stays a small message, and a segment of 192 KiB holds a batch of small events.</summary>
    public const int MaxAppend = 500;

    private string Key => this.GetPrimaryKeyString();

    Task IAuditLogGrain.AppendAsync(AuditEvent auditEvent) => AppendManyAsync([auditEvent]);

    Task IAuditLogGrain.AppendManyAsync(IReadOnlyList<AuditEvent> auditEvents) => AppendManyAsync(auditEvents);

    private async Task AppendManyAsync(IReadOnlyList<AuditEvent> auditEvents)
    {
        var (tenant, day) = ParseKey();
        if (auditEvents is null || auditEvents.Count == 0 || auditEvents.Any(e => e is null)) throw new ArgumentException("an audit event is required");
        if (auditEvents.Count > MaxAppend) throw new ArgumentException($"at most {MaxAppend} audit events per append");
        if (auditEvents.FirstOrDefault(e => e.Tenant != tenant) is { } foreign)
            throw new ArgumentException($"the event belongs to tenant '{foreign.Tenant}', not to '{tenant}'");
        if (auditEvents.Any(e => new[] { e.Actor, e.Action, e.Target, e.Detail, e.RemoteAddress }.Any(f => f?.Length > MaxFieldLength)))
            throw new ArgumentException($"audit event fields are at most {MaxFieldLength} characters");

        if (state.State.Segments == 0)
        {
            // The day's first event arms its expiry (a day stored before segments armed it already). The reminder is stored,
            // so this happens once per day; it comes before the first write so that no stored day is ever left without one.
            if (state.State.Events.Count == 0)
                await this.RegisterOrUpdateReminder(ExpireReminder, ExpiryDueTime(day), TimeSpan.FromDays(1));
            if (state.State.Segments == 0) await OpenSegmentAsync(1);
        }

        var rest = auditEvents;
        while (true)
        {
            var last = state.State.Segments;
            var taken = await Segment(last).TryAppendAsync(rest, options.Value.SegmentEvents);
            if (taken == rest.Count) return;
            rest = rest.Skip(taken).ToList();
            // Full: the first append to notice opens the next; the others, interleaved here, find it open and go on.
            if (state.State.Segments == last) await OpenSegmentAsync(last + 1);
        }
    }

    async Task<IReadOnlyList<AuditEvent>> IAuditLogGrain.ReadAsync()
    {
        var events = new List<AuditEvent>();
        string? after = null;
        do
        {
            var page = await ReadPageAsync(after, MaxPageSize);
            events.AddRange(page.Events);
            after = page.Next;
        }
        while (after is not null);
        return events;
    }

    Task<AuditPage> IAuditLogGrain.ReadPageAsync(string? after, int limit) => ReadPageAsync(after, limit);

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ExpireReminder) return;
        // Ticks daily after the first, so a tick that came early only postpones the deletion by a day.
        if (time.GetUtcNow() < ExpiresAt(ParseKey().Day)) return;

        // Segments first, the count last: a deletion cut short is finished by the next tick.
        for (var n = 1; n <= state.State.Segments + 1; n++) await Segment(n).ClearAsync();
        await state.ClearStateAsync();
        if (await this.GetReminder(ExpireReminder) is { } reminder) await this.UnregisterReminder(reminder);
        logger.LogInformation("Audit log {Key} deleted after {Days} days", Key, Retention.TotalDays);
        DeactivateOnIdle();
    }

    /// <summary>
    /// Pages through segment 0 (the events stored before segments), then segments 1, 2, ... The cursor is "{segment}.{offset}".
    /// A segment after the counted ones is read when the one before it is full: its opening may not have been stored.
    /// </summary>
    private async Task<AuditPage> ReadPageAsync(string? after, int limit)
    {
        if (limit is < 1 or > MaxPageSize) throw new ArgumentException($"limit must be 1 to {MaxPageSize}");
        var (segment, offset) = ParseCursor(after);
        var events = new List<AuditEvent>();
        while (true)
        {
            int count;
            bool more;
            if (segment == 0)
            {
                var legacy = state.State.Events;
                var taken = legacy.Skip(offset).Take(limit - events.Count).ToList();
                events.AddRange(taken);
                offset += taken.Count;
                count = legacy.Count;
                more = state.State.Segments > 0;
            }
            else
            {
                var page = await Segment(segment).ReadAsync(offset, limit - events.Count);
                events.AddRange(page.Events);
                offset += page.Events.Count;
                count = page.Count;
                more = page.Full || segment < state.State.Segments;
            }

            if (offset < count) return new AuditPage(events, $"{segment}.{offset}"); // the page is full
            if (!more) return new AuditPage(events, null);
            (segment, offset) = (segment + 1, 0);
            if (events.Count == limit) return new AuditPage(events, $"{segment}.0");
        }
    }

    private static (int Segment, int Offset) ParseCursor(string? after)
    {
        if (after is null) return (0, 0);
        var dot = after.IndexOf('.');
        if (after.Length > 21 || dot < 1
            || !int.TryParse(after.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var segment)
            || !int.TryParse(after.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            throw new ArgumentException("after must be the next of the previous page");
        return (segment, offset);
    }

    private async Task OpenSegmentAsync(int segment)
    {
        state.State.Segments = segment;
        await state.WriteOrReloadAsync(this);
    }

    private IAuditSegmentGrain Segment(int n) => GrainFactory.GetGrain<IAuditSegmentGrain>($"{Key}/{n}");

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
