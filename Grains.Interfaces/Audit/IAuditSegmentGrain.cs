using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.Audit;

/// <summary>
/// One segment of a tenant's audit day, keyed "{tenant}/{yyyy-MM-dd}/{n}" (n from 1): at most a configured number of events
/// and about 192 KiB, appended in order. Only its day grain (<see cref="IAuditLogGrain"/>) appends to it.
/// </summary>
[Alias("dovecote.IAuditSegmentGrain")]
public interface IAuditSegmentGrain : IGrainWithStringKey, ITenantScopedGrain
{
    /// <summary>
    /// Appends durably, in one write, as many of the events (from the first, in order) as fit, and returns how many that was.
    /// Fewer than all means the segment is full (and from then on stays full): the rest belong in the next segment.
    /// </summary>
    [Alias("TryAppendMany")]
    Task<int> TryAppendAsync(IReadOnlyList<AuditEvent> auditEvents, int maxEvents);

    /// <summary>Up to <paramref name="limit"/> events from position <paramref name="offset"/>, oldest first.</summary>
    [Alias("Read"), ReadOnly]
    Task<AuditSegmentPage> ReadAsync(int offset, int limit);

    /// <summary>Deletes the segment's events (the day has expired).</summary>
    [Alias("Clear")]
    Task ClearAsync();
}

/// <summary>Some events of a segment, how many it holds in all, and whether it is full (so a later segment may exist).</summary>
[GenerateSerializer, Immutable, Alias("dovecote.AuditSegmentPage")]
public sealed record AuditSegmentPage(
    [property: Id(0)] IReadOnlyList<AuditEvent> Events,
    [property: Id(1)] int Count,
    [property: Id(2)] bool Full);
