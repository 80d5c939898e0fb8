using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.Audit;

/// <summary>
/// Append-only audit events of one tenant for one UTC day, keyed "{tenant}/{yyyy-MM-dd}"; kept 90 days. The day holds the
/// number of its segments (<see cref="IAuditSegmentGrain"/>), which hold the events, so no grain's state grows with the day.
/// </summary>
[Alias("dovecote.IAuditLogGrain")]
public interface IAuditLogGrain : IGrainWithStringKey, ITenantScopedGrain
{
    /// <summary>Appends durably: the event is written before this returns.</summary>
    [Alias("Append")]
    Task AppendAsync(AuditEvent auditEvent);

    /// <summary>Appends the events durably, in order, in as few writes as their segments allow (one, usually).</summary>
    [Alias("AppendMany")]
    Task AppendManyAsync(IReadOnlyList<AuditEvent> auditEvents);

    /// <summary>All of the day's events, oldest first; for a day that may be large, page with <see cref="ReadPageAsync"/>.</summary>
    [Alias("Read"), ReadOnly]
    Task<IReadOnlyList<AuditEvent>> ReadAsync();

    /// <summary>
    /// Up to <paramref name="limit"/> events, oldest first, after the cursor <paramref name="after"/> (null: from the start).
    /// A malformed cursor throws <see cref="ArgumentException"/>.
    /// </summary>
    [Alias("ReadPage"), ReadOnly]
    Task<AuditPage> ReadPageAsync(string? after, int limit);
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

/// <summary>A page of a day's events; <see cref="Next"/> is the <c>after</c> of the next page, null when the day has no more.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.AuditPage")]
public sealed record AuditPage([property: Id(0)] IReadOnlyList<AuditEvent> Events, [property: Id(1)] string? Next);
