namespace Dovecote.Grains.Interfaces.Channels;

/// <summary>What an operator sets on a channel.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.ChannelConfig")]
public sealed record ChannelConfig(
    [property: Id(0)] string Name,
    [property: Id(1)] bool Enabled,
    [property: Id(2)] ChannelSettings Settings,
    [property: Id(3)] RateLimitPolicy? RateLimit = null,
    /// <summary>
    /// A secret left empty in <see cref="Settings"/> keeps the stored one (same channel type only): the console never shows
    /// secrets, so an edit that does not retype one must not erase it.
    /// </summary>
    [property: Id(4)] bool KeepUnsetSecrets = false);

/// <summary>A token bucket: up to <see cref="Burst"/> sends at once, refilled at <see cref="PerSecond"/>.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.RateLimitPolicy")]
public sealed record RateLimitPolicy([property: Id(0)] int Burst, [property: Id(1)] double PerSecond)
{
    public string? Validate() =>
        Burst is < 1 or > 10_000 ? "rateLimit.burst must be between 1 and 10000"
        : PerSecond is <= 0 or > 10_000 || double.IsNaN(PerSecond) ? "rateLimit.perSecond must be above 0 and at most 10000"
        : null;
}
