using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.Audit;

/// <summary>Append-only audit events of one tenant for one UTC day, keyed "{tenant}/{yyyy-MM-dd}"; kept 90 days.</summary>
[Alias("dovecote.IAuditLogGrain")]
public interface IAuditLogGrain : IGrainWithStringKey, ITenantScopedGrain
{
    /// <summary>Appends durably: the event is written before this returns.</summary>
    [Alias("Append")]
    Task AppendAsync(AuditEvent auditEvent);

    /// <summary>The day's events, oldest first.</summary>
    [Alias("Read"), ReadOnly]
    Task<IReadOnlyList<AuditEvent>> ReadAsync();
}

/// <summary>Who did what to which thing. Never carries secrets or message bodies.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.AuditEvent")]
public sealed record AuditEvent(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Tenant,
    /// <summary>"apikey:{keyId}", "oauth:{clientId}", "admin", ...</summary>
    [property: Id(2)] string Actor,
    /// <summary>"notification.send", "env.read", "channel.put", ...</summary>
    [property: Id(3)] string Action,
    [property: Id(4)] string Target,
    [property: Id(5)] string? Detail = null,
    [property: Id(6)] string? RemoteAddress = null);
