namespace Dovecote.Grains.Interfaces.RateLimiting;

/// <summary>
/// A cluster-wide counter for one bucket and key, keyed "{bucket}/{key}" (e.g. "login-ip/203.0.113.9"):
/// one activation in the cluster, so every front-end pod counts against the same window.
/// </summary>
[Alias("dovecote.IRateLimitGrain")]
public interface IRateLimitGrain : IGrainWithStringKey
{
    /// <summary>Counts one hit in a fixed window of <paramref name="window"/>; refused once <paramref name="limit"/> hits are in it.</summary>
    [Alias("TryAcquire")]
    Task<RateLimitDecision> TryAcquireAsync(int limit, TimeSpan window);

    /// <summary>Counts <paramref name="permits"/> hits at once, or none: refused when they would not all fit in the window.</summary>
    [Alias("TryAcquireMany")]
    Task<RateLimitDecision> TryAcquireAsync(int permits, int limit, TimeSpan window);

    /// <summary>Whether a hit would be allowed now, without counting one (e.g. check a sign-in budget before the password).</summary>
    [Alias("Peek"), ReadOnly]
    Task<RateLimitDecision> PeekAsync(int limit, TimeSpan window);

    /// <summary>
    /// Gives back one hit counted by <see cref="TryAcquireAsync"/> in the current window of <paramref name="window"/>
    /// (e.g. a sign-in attempt reserved before the password, which then succeeded); nothing once that window has ended.
    /// </summary>
    [Alias("Release")]
    Task ReleaseAsync(TimeSpan window);
}

[GenerateSerializer, Immutable, Alias("dovecote.RateLimitDecision")]
public sealed record RateLimitDecision([property: Id(0)] bool Allowed, [property: Id(1)] int Remaining, [property: Id(2)] TimeSpan RetryAfter);
