using Dovecote.Api.Hosting;
using Dovecote.Grains.Audit;
using Dovecote.Grains.Interfaces.Audit;

namespace Dovecote.Api.Audit;

/// <summary>
/// Writes audit events to the tenant's day grain. Events name actors and targets, never secrets or message text.
/// Events of one tenant's day recorded while an append is on its way go together in the next append: one grain call and
/// one segment write for many sends, and each caller still returns only once its own event is durable.
/// </summary>
public sealed class AuditTrail
{
    /// <summary>Where events that belong to no tenant go (client registrations); not a valid tenant id, so no tenant can own it.</summary>
    public const string SystemTenant = "_system";

    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditTrail> _logger;
    private readonly CoalescedCalls<AuditEvent, bool> _appends;

    public AuditTrail(IGrainFactory grains, TimeProvider time, ILogger<AuditTrail> logger)
    {
        (_grains, _time, _logger) = (grains, time, logger);
        _appends = new(AppendAsync, AuditLogGrain.MaxAppend);
    }

    public async Task RecordAsync(string tenant, string actor, string action, string target, string? detail = null, HttpContext? http = null)
    {
        var now = _time.GetUtcNow();
        var auditEvent = new AuditEvent(now, tenant, Clip(actor)!, action, Clip(target)!, Clip(detail), http?.Connection.RemoteIpAddress?.ToString());
        await _appends.SubmitAsync(GrainKeys.AuditDay(tenant, DateOnly.FromDateTime(now.UtcDateTime)), auditEvent);
        _logger.LogInformation("Audit {Tenant} {Actor} {Action} {Target}", tenant, actor, action, target);
    }

    private async Task<IReadOnlyList<bool>> AppendAsync(string dayKey, IReadOnlyList<AuditEvent> events)
    {
        using var scope = TenantContext.Enter(events[0].Tenant);
        var day = _grains.GetGrain<IAuditLogGrain>(dayKey);
        // Retried through a failover: an event may then be stored twice, never lost.
        await ClusterCalls.RetryAsync(async () => { await day.AppendManyAsync(events); return true; }, _logger);
        return [.. Enumerable.Repeat(true, events.Count)];
    }

    /// <summary>The audit grain refuses fields over 1,000 characters; a metadata-document client_id may be 2,048.</summary>
    private const int MaxFieldLength = 1_000;

    private static string? Clip(string? field) => field is { Length: > MaxFieldLength } ? field[..(MaxFieldLength - 1)] + "…" : field;

    /// <summary>A page of the day's events, oldest first; a malformed <paramref name="after"/> throws <see cref="ArgumentException"/>.</summary>
    public async Task<AuditPage> ReadAsync(string tenant, DateOnly day, string? after, int limit)
    {
        using var scope = TenantContext.Enter(tenant);
        return await _grains.GetGrain<IAuditLogGrain>(GrainKeys.AuditDay(tenant, day)).ReadPageAsync(after, limit);
    }
}
