using Dovecote.Grains.Interfaces.Audit;

namespace Dovecote.Grains.Audit;

/// <summary>One tenant's audit events of one UTC day, oldest first.</summary>
[GenerateSerializer, Alias("dovecote.AuditLogState")]
public sealed class AuditLogState
{
    [Id(0)] public List<AuditEvent> Events { get; set; } = [];

    public override string ToString() => $"AuditLogState {{ {Events.Count} events }}";
}
