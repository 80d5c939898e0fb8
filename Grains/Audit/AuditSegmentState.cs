using Dovecote.Grains.Interfaces.Audit;

namespace Dovecote.Grains.Audit;

/// <summary>Some of one audit day's events, oldest first, and an upper bound of their stored size.</summary>
[GenerateSerializer, Alias("dovecote.AuditSegmentState")]
public sealed class AuditSegmentState
{
    [Id(0)] public List<AuditEvent> Events { get; set; } = [];
    [Id(1)] public int Bytes { get; set; }
    /// <summary>Set when an append was refused: the day has moved on to the next segment, and this one stays closed.</summary>
    [Id(2)] public bool Full { get; set; }

    public override string ToString() => $"AuditSegmentState {{ {Events.Count} events, {Bytes} bytes{(Full ? ", full" : "")} }}";
}
