namespace Dovecote.Grains.Interfaces.Channels;

/// <summary>What an operator sets on a channel.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.ChannelConfig")]
public sealed record ChannelConfig(
    [property: Id(0)] string Name,
    [property: Id(1)] bool Enabled,
    [property: Id(2)] ChannelSettings Settings,
    [property: Id(3)] RateLimitPolicy? RateLimit = null);

/// <summary>A token bucket: up to <see cref="Burst"/> sends at once, refilled at <see cref="PerSecond"/>.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.RateLimitPolicy")]
public sealed record RateLimitPolicy([property: Id(0)] int Burst, [property: Id(1)] double PerSecond)
{
    public string? Validate() =>
        Burst is < 1 or > 10_000 ? "rateLimit.burst must be between 1 and 10000"
        : PerSecond is <= 0 or > 10_000 || double.IsNaN(PerSecond) ? "rateLimit.perSecond must be above 0 and at most 10000"
        : null;
}
