using Dovecote.Api.RateLimiting;
using Dovecote.Grains.Interfaces.RateLimiting;
using Microsoft.Extensions.Caching.Memory;

namespace Dovecote.Api.Security;

/// <summary>
/// Whether an address may still present credentials: the cluster-wide failed-authentication window ("auth-fail-ip"). Every
/// request asks, so this pod keeps an address's "allowed" answer for <see cref="AllowedFor"/> instead of a grain call per
/// request. Every failure is still counted in the cluster and drops what this pod kept (a refusal is kept until its window
/// ends), so this pod is exact about its own failures; another pod's reach it within <see cref="AllowedFor"/>.
/// </summary>
public sealed class FailedAuthenticationGate(ClusterRateLimiter limiter, TimeProvider time) : IDisposable
{
    private const string Bucket = "auth-fail-ip";

    /// <summary>How long an "allowed" answer serves this pod.</summary>
    public static readonly TimeSpan AllowedFor = TimeSpan.FromSeconds(1);

    /// <summary>Addresses remembered at once; past it the cache compacts (the evicted ones just ask the cluster again).</summary>
    public const int MaxAddresses = 100_000;

    private readonly MemoryCache _decisions = new(new MemoryCacheOptions { SizeLimit = MaxAddresses, Clock = new ClockOf(time) });

    /// <summary>The address's budget as last seen, asking the cluster when nothing fresh is kept.</summary>
    public async Task<RateLimitDecision> PeekAsync(HttpContext http)
    {
        var client = ClusterRateLimiter.ClientKey(http);
        if (_decisions.TryGetValue(client, out RateLimitDecision? kept)) return kept!;
        return Keep(client, await limiter.PeekAsync(Bucket, client, ClusterRateLimiter.FailedAuthentication));
    }

    /// <summary>Counts one failed attempt cluster-wide; this pod asks again at the next attempt, unless it was refused.</summary>
    public async Task<RateLimitDecision> FailedAsync(HttpContext http)
    {
        var client = ClusterRateLimiter.ClientKey(http);
        var decision = await limiter.HitAsync(Bucket, client, ClusterRateLimiter.FailedAuthentication);
        if (decision.Allowed) _decisions.Remove(client); // it may have used the last attempt of the window
        else Keep(client, decision);
        return decision;
    }

    public void Dispose() => _decisions.Dispose();

    private RateLimitDecision Keep(string client, RateLimitDecision decision)
    {
        var keepFor = !decision.Allowed && decision.RetryAfter > TimeSpan.Zero ? decision.RetryAfter : AllowedFor;
        _decisions.Set(client, decision, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = keepFor, Size = 1 });
        return decision;
    }

    private sealed class ClockOf(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
