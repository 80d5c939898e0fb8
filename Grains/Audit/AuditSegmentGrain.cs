using System.Text.Json;
using Dovecote.Grains.Interfaces.Audit;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.Audit;

/// <summary>
/// One segment of an audit day, keyed "{tenant}/{yyyy-MM-dd}/{n}". Bounded in events and bytes, so its state, rewritten on
/// every append (of a batch of events, usually), stays within the grain budget however busy the day is. Deleted with its day by the day's expiry reminder.
/// </summary>
// Reentrant so concurrent appends share state writes; the fullness check and the append run without an await between them.
[GrainType("auditsegment"), Reentrant]
public sealed class AuditSegmentGrain([PersistentState("auditsegment")] IPersistentState<AuditSegmentState> state) : Grain, IAuditSegmentGrain
{
    /// <summary>Under the 256 KiB grain budget with room for one more event of at most 5 fields of 1,000 characters.</summary>
    public const int MaxBytes = 192 * 1024;

    /// <summary>Per event, on top of its JSON: type names and framing the storage serializer adds.</summary>
    private const int Overhead = 256;

    async Task<int> IAuditSegmentGrain.TryAppendAsync(IReadOnlyList<AuditEvent> auditEvents, int maxEvents)
    {
        if (auditEvents is null || auditEvents.Count == 0 || auditEvents.Any(e => e is null)) throw new ArgumentException("audit events are required");
        if (maxEvents < 1) throw new ArgumentException("maxEvents must be at least 1");
        if (state.State.Full) return 0;

        // The fullness checks and the appends run without an await between them, so interleaved calls cannot overfill.
        var taken = 0;
        foreach (var auditEvent in auditEvents)
        {
            var bytes = StoredBytes(auditEvent);
            // An empty segment takes any event (one is far below MaxBytes), so the day always moves forward.
            if (state.State.Events.Count > 0 && (state.State.Events.Count >= maxEvents || state.State.Bytes + bytes > MaxBytes))
            {
                state.State.Full = true;
                break;
            }
            state.State.Events.Add(auditEvent);
            state.State.Bytes += bytes;
            taken++;
        }

        await state.WriteOrReloadAsync(this); // an unsaved event must not be served by this activation
        return taken;
    }

    Task<AuditSegmentPage> IAuditSegmentGrain.ReadAsync(int offset, int limit)
    {
        if (offset < 0 || limit < 1) throw new ArgumentException("offset must be at least 0 and limit at least 1");
        var events = state.State.Events;
        var page = events.Skip(offset).Take(limit).ToList();
        return Task.FromResult(new AuditSegmentPage(page, events.Count, state.State.Full));
    }

    async Task IAuditSegmentGrain.ClearAsync()
    {
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }

    /// <summary>
    /// An upper bound of the event's stored size: System.Text.Json's default encoder writes every non-ASCII or control
    /// character as a 6-byte escape, more than any JSON serializer needs for it.
    /// </summary>
    private static int StoredBytes(AuditEvent auditEvent) => JsonSerializer.SerializeToUtf8Bytes(auditEvent).Length + Overhead;
}
