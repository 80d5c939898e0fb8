using Dovecote.Grains.Interfaces.RateLimiting;

namespace Dovecote.Grains.RateLimiting;

/// <summary>
/// A fixed-window counter for one "{bucket}/{key}", e.g. login attempts from one address. In memory only:
/// losing the activation on failover just resets one counter, which errs toward a few extra attempts,
/// never toward locking anyone out, and keeps every hit free of a storage write.
/// </summary>
[GrainType("ratelimit")]
public sealed class RateLimitGrain(TimeProvider time) : Grain, IRateLimitGrain
{
    /// <summary>Longer windows belong in persistent state, not in an activation kept alive for them.</summary>
    private static readonly TimeSpan MaxWindow = TimeSpan.FromDays(1);

    private DateTimeOffset _windowStart;
    private TimeSpan _window;
    private int _count;

    Task<RateLimitDecision> IRateLimitGrain.TryAcquireAsync(int limit, TimeSpan window) => TryAcquire(1, limit, window);

    Task<RateLimitDecision> IRateLimitGrain.TryAcquireAsync(int permits, int limit, TimeSpan window)
    {
        if (permits < 1) throw new ArgumentException("permits must be at least 1");
        return TryAcquire(permits, limit, window);
    }

    private Task<RateLimitDecision> TryAcquire(int permits, int limit, TimeSpan window)
    {
        Validate(limit, window);
        var now = time.GetUtcNow();
        if (window != _window || now >= _windowStart + window)
        {
            _windowStart = now;
            _window = window;
            _count = 0;
            // Idle activations are collected after 15 minutes by default; a longer window must outlive that.
            DelayDeactivation(window);
        }

        // All or nothing, so a refused fan-out sends to no channel rather than to the first few.
        if (_count + permits > limit) return Task.FromResult(new RateLimitDecision(false, Math.Max(0, limit - _count), _windowStart + window - now));
        _count += permits;
        return Task.FromResult(new RateLimitDecision(true, limit - _count, TimeSpan.Zero));
    }

    Task<RateLimitDecision> IRateLimitGrain.PeekAsync(int limit, TimeSpan window)
    {
        Validate(limit, window);
        var now = time.GetUtcNow();
        var count = window == _window && now < _windowStart + window ? _count : 0;
        return Task.FromResult(count >= limit
            ? new RateLimitDecision(false, 0, _windowStart + window - now)
            : new RateLimitDecision(true, limit - count, TimeSpan.Zero));
    }

    Task IRateLimitGrain.ReleaseAsync(TimeSpan window)
    {
        if (window == _window && time.GetUtcNow() < _windowStart + window && _count > 0) _count--;
        return Task.CompletedTask;
    }

    private static void Validate(int limit, TimeSpan window)
    {
        if (limit < 1) throw new ArgumentException("limit must be at least 1");
        if (window <= TimeSpan.Zero || window > MaxWindow) throw new ArgumentException("window must be positive and at most 1 day");
    }
}
