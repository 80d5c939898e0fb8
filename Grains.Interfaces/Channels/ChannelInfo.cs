namespace Dovecote.Grains.Interfaces.Channels;

[GenerateSerializer, Alias("dovecote.ChannelHealth")]
public enum ChannelHealth
{
    Healthy = 0,
    /// <summary>Recent attempts failed but may still succeed.</summary>
    Degraded = 1,
    /// <summary>The destination rejects us; messages are dead-lettered.</summary>
    Failing = 2,
    Disabled = 3,
}

/// <summary>
/// A channel as an operator or agent sees it: never its secrets. <see cref="Hold"/> says what a limit shared with other
/// channels (a Telegram bot's rate, a platform's invalid-answer budget) holds it for, and <see cref="PausedUntil"/> until when.
/// </summary>
[GenerateSerializer, Immutable, Alias("dovecote.ChannelInfo")]
public sealed record ChannelInfo(
    [property: Id(0)] string ChannelId,
    [property: Id(1)] ChannelType Type,
    [property: Id(2)] string Name,
    [property: Id(3)] bool Enabled,
    [property: Id(4)] ChannelHealth Health,
    [property: Id(5)] int Pending,
    [property: Id(6)] int DeadLetters,
    [property: Id(7)] DateTimeOffset? PausedUntil,
    [property: Id(8)] string? LastError,
    [property: Id(9)] IReadOnlyDictionary<string, string> Settings,
    [property: Id(10)] RateLimitPolicy RateLimit,
    [property: Id(11)] string? Hold = null)
{
    /// <summary>
    /// "healthy", "degraded", "failing" or "disabled"; or, while a limit the channel shares holds it, what holds it:
    /// "paused: bot budget", "held: Discord invalid-request budget".
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string HealthText => Hold ?? Health.ToString().ToLowerInvariant();
}
