using Dovecote.Api.Hosting;
using Dovecote.Grains.Interfaces.Audit;

namespace Dovecote.Api.Audit;

/// <summary>Writes audit events to the tenant's day grain. Events name actors and targets, never secrets or message text.</summary>
public sealed class AuditTrail(IGrainFactory grains, TimeProvider time, ILogger<AuditTrail> logger)
{
    /// <summary>Where events that belong to no tenant go (client registrations); not a valid tenant id, so no tenant can own it.</summary>
    public const string SystemTenant = "_system";

    public async Task RecordAsync(string tenant, string actor, string action, string target, string? detail = null, HttpContext? http = null)
    {
        var now = time.GetUtcNow();
        var auditEvent = new AuditEvent(now, tenant, Clip(actor)!, action, Clip(target)!, Clip(detail), http?.Connection.RemoteIpAddress?.ToString());
        using var scope = TenantContext.Enter(tenant);
        // Retried through a failover: an event may then be stored twice, never lost.
        var day = grains.GetGrain<IAuditLogGrain>(GrainKeys.AuditDay(tenant, DateOnly.FromDateTime(now.UtcDateTime)));
        await ClusterCalls.RetryAsync(async () => { await day.AppendAsync(auditEvent); return true; }, logger);
        logger.LogInformation("Audit {Tenant} {Actor} {Action} {Target}", tenant, actor, action, target);
    }

    /// <summary>The audit grain refuses fields over 1,000 characters; a metadata-document client_id may be 2,048.</summary>
    private const int MaxFieldLength = 1_000;

    private static string? Clip(string? field) => field is { Length: > MaxFieldLength } ? field[..(MaxFieldLength - 1)] + "…" : field;

    /// <summary>A page of the day's events, oldest first; a malformed <paramref name="after"/> throws <see cref="ArgumentException"/>.</summary>
    public async Task<AuditPage> ReadAsync(string tenant, DateOnly day, string? after, int limit)
    {
        using var scope = TenantContext.Enter(tenant);
        return await grains.GetGrain<IAuditLogGrain>(GrainKeys.AuditDay(tenant, day)).ReadPageAsync(after, limit);
    }
}
