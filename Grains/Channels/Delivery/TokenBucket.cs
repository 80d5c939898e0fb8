namespace Dovecote.Grains.Channels.Delivery;

/// <summary>
/// Paces sends to one destination. Kept in memory: losing it on failover only resets the burst,
/// while the platform's own 429s (which pause the channel) are durable state.
/// </summary>
public sealed class TokenBucket(RateLimitPolicy policy, TimeProvider time)
{
    private double _tokens = policy.Burst;
    private long _refilledAt = time.GetTimestamp();

    public RateLimitPolicy Policy => policy;

    /// <summary>The steady pace: one send per this long once the burst is spent.</summary>
    public TimeSpan Interval => TimeSpan.FromSeconds(1 / policy.PerSecond);

    /// <summary>Takes a token and returns zero, or returns how long until one is available.</summary>
    public TimeSpan TryTake()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(policy.Burst, _tokens + time.GetElapsedTime(_refilledAt, now).TotalSeconds * policy.PerSecond);
        _refilledAt = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return TimeSpan.Zero;
        }
        return TimeSpan.FromSeconds((1 - _tokens) / policy.PerSecond);
    }

    /// <summary>The platforms' documented limits (channels.md): Telegram 1/s per chat and 20/min per group, Discord 5 per 2 s, Slack 1/s.</summary>
    public static RateLimitPolicy DefaultFor(ChannelSettings settings) => settings switch
    {
        TelegramSettings { IsGroupChat: true } => new(Burst: 3, PerSecond: 20.0 / 60),
        TelegramSettings => new(Burst: 3, PerSecond: 1),
        DiscordSettings => new(Burst: 5, PerSecond: 2.5),
        SlackSettings => new(Burst: 3, PerSecond: 1),
        WebhookSettings => new(Burst: 10, PerSecond: 10),
        _ => throw new ArgumentOutOfRangeException(nameof(settings)),
    };
}
