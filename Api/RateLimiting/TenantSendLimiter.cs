using System.Collections.Concurrent;
using Dovecote.Api.Hosting;
using Dovecote.Grains.Interfaces.RateLimiting;

namespace Dovecote.Api.RateLimiting;

/// <summary>
/// A tenant's sends per minute, counted cluster-wide in one rate-limit grain ("tenant-sends/{tenant}"), so one tenant's flood
/// cannot fill the delivery queues that every tenant shares. The limit itself is read from the tenant grain at most once per
/// <see cref="LimitCacheTime"/> per pod; an operator's change applies within that time. Sends of one tenant that arrive
/// while its count is being taken are checked and counted together in the next batch, so a busy tenant costs two grain
/// calls per batch (the operator's suspension, then the count) instead of two per send.
/// </summary>
public sealed class TenantSendLimiter
{
    public const string Bucket = "tenant-sends";
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan LimitCacheTime = TimeSpan.FromSeconds(30);
    private const int MaxBatch = 256;

    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<TenantSendLimiter> _logger;
    private readonly CoalescedCalls<int, string?> _sends;

    /// <summary>Bounded by the number of tenants, which the operator creates.</summary>
    private readonly ConcurrentDictionary<string, (int Limit, DateTimeOffset Until)> _limits = new(StringComparer.Ordinal);

    public TenantSendLimiter(IGrainFactory grains, TimeProvider time, ILogger<TenantSendLimiter> logger)
    {
        (_grains, _time, _logger) = (grains, time, logger);
        _sends = new(CheckAndCountAsync, MaxBatch);
    }

    /// <summary>
    /// Whether the tenant may send now: not suspended by the operator, then <paramref name="sends"/> counted (the tenant
    /// already entered). The suspension is read by a batch that starts after this call arrived, so it applies at once.
    /// Null when allowed, else the refusal to show.
    /// </summary>
    public Task<string?> TryAcquireAsync(string tenant, int sends) => _sends.SubmitAsync(tenant, sends);

    /// <summary>
    /// All of the batch at once when it fits; otherwise, in order, the calls that fit in what is left (one more grain call),
    /// and the others refused. Each call stays all or nothing, so a refused fan-out sends to no channel.
    /// </summary>
    private async Task<IReadOnlyList<string?>> CheckAndCountAsync(string tenant, IReadOnlyList<int> sends)
    {
        using var scope = TenantContext.Enter(tenant);
        if (await ClusterCalls.RetryAsync(() => _grains.GetGrain<ITenantGrain>(tenant).GetSuspensionAsync(), _logger) is { } suspended)
            return [.. sends.Select(_ => $"tenant '{tenant}' is suspended by the operator: {suspended}")];

        var limit = await LimitAsync(tenant);
        var counter = _grains.GetGrain<IRateLimitGrain>(GrainKeys.RateLimit(Bucket, tenant));
        Task<RateLimitDecision> Acquire(int permits) => ClusterCalls.RetryAsync(() => counter.TryAcquireAsync(permits, limit, Window), _logger);

        var all = await Acquire(sends.Sum());
        if (all.Allowed) return new string?[sends.Count];

        var results = new string?[sends.Count];
        var admitted = new List<int>();
        var room = all.Remaining;
        for (var i = 0; i < sends.Count; i++)
        {
            if (sends[i] > room)
            {
                results[i] = Refusal(tenant, sends[i], all, limit);
                continue;
            }
            room -= sends[i];
            admitted.Add(i);
        }
        if (admitted.Count > 0)
        {
            var some = await Acquire(admitted.Sum(i => sends[i]));
            if (!some.Allowed) foreach (var i in admitted) results[i] = Refusal(tenant, sends[i], some, limit);
        }
        return results;
    }

    private static string Refusal(string tenant, int sends, RateLimitDecision decision, int limit)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(decision.RetryAfter.TotalSeconds));
        var fanOut = sends > 1 ? $" (this call is {sends} sends, one per channel; {decision.Remaining} left in this minute)" : "";
        return $"tenant '{tenant}' may send {limit} notifications per minute{fanOut}; retry in {seconds} s";
    }

    private async Task<int> LimitAsync(string tenant)
    {
        var now = _time.GetUtcNow();
        if (_limits.TryGetValue(tenant, out var cached) && now < cached.Until) return cached.Limit;
        var limit = (await ClusterCalls.RetryAsync(() => _grains.GetGrain<ITenantGrain>(tenant).GetLimitsAsync(), _logger)).SendsPerMinute;
        _limits[tenant] = (limit, now + LimitCacheTime);
        return limit;
    }
}
