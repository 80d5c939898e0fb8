using System.Collections.Concurrent;
using Dovecote.Api.Hosting;
using Dovecote.Grains.Interfaces.RateLimiting;

namespace Dovecote.Api.RateLimiting;

/// <summary>
/// A tenant's sends per minute, counted cluster-wide in one rate-limit grain ("tenant-sends/{tenant}"), so one tenant's flood
/// cannot fill the delivery queues that every tenant shares. The limit itself is read from the tenant grain at most once per
/// <see cref="LimitCacheTime"/> per pod, so a send costs one grain call; an operator's change applies within that time.
/// </summary>
public sealed class TenantSendLimiter(IGrainFactory grains, TimeProvider time, ILogger<TenantSendLimiter> logger)
{
    public const string Bucket = "tenant-sends";
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan LimitCacheTime = TimeSpan.FromSeconds(30);

    /// <summary>Bounded by the number of tenants, which the operator creates.</summary>
    private readonly ConcurrentDictionary<string, (int Limit, DateTimeOffset Until)> _limits = new(StringComparer.Ordinal);

    /// <summary>Counts <paramref name="sends"/> sends for the tenant (already entered); null when allowed, else the refusal to show.</summary>
    public async Task<string?> TryAcquireAsync(string tenant, int sends)
    {
        var limit = await LimitAsync(tenant);
        var decision = await ClusterCalls.RetryAsync(
            () => grains.GetGrain<IRateLimitGrain>(GrainKeys.RateLimit(Bucket, tenant)).TryAcquireAsync(sends, limit, Window), logger);
        if (decision.Allowed) return null;
        var seconds = Math.Max(1, (int)Math.Ceiling(decision.RetryAfter.TotalSeconds));
        var fanOut = sends > 1 ? $" (this call is {sends} sends, one per channel; {decision.Remaining} left in this minute)" : "";
        return $"tenant '{tenant}' may send {limit} notifications per minute{fanOut}; retry in {seconds} s";
    }

    private async Task<int> LimitAsync(string tenant)
    {
        var now = time.GetUtcNow();
        if (_limits.TryGetValue(tenant, out var cached) && now < cached.Until) return cached.Limit;
        var limit = (await ClusterCalls.RetryAsync(() => grains.GetGrain<ITenantGrain>(tenant).GetLimitsAsync(), logger)).SendsPerMinute;
        _limits[tenant] = (limit, now + LimitCacheTime);
        return limit;
    }
}
