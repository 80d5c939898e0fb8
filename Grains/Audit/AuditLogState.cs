using Dovecote.Grains.Interfaces.Audit;

namespace Dovecote.Grains.Audit;

/// <summary>One tenant's audit day: how many segments hold its events, and the events a day stored before segments.</summary>
[GenerateSerializer, Alias("dovecote.AuditLogState")]
public sealed class AuditLogState
{
    /// <summary>
    /// Events stored in the day grain itself before the trail was segmented, oldest first. Read as segment 0, before the
    /// segment grains; never appended to again, so it only shrinks to nothing when the day expires.
    /// </summary>
    [Id(0)] public List<AuditEvent> Events { get; set; } = [];

    /// <summary>Segment grains "{tenant}/{day}/1" to "/{Segments}"; the last one takes new events.</summary>
    [Id(1)] public int Segments { get; set; }

    public override string ToString() => $"AuditLogState {{ {Segments} segments, {Events.Count} unsegmented events }}";
}
