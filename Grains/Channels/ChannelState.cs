namespace Dovecote.Grains.Channels;

/// <summary>Everything a channel owns. Written before any enqueue is acknowledged.</summary>
[GenerateSerializer, Alias("dovecote.ChannelState")]
public sealed class ChannelState
{
    [Id(0)] public bool Configured { get; set; }
    [Id(1)] public ChannelType Type { get; set; }
    [Id(2)] public string Name { get; set; } = "";
    [Id(3)] public bool Enabled { get; set; }
    /// <summary>The settings JSON, AES-GCM encrypted and bound to the grain key.</summary>
    [Id(4)] public string ProtectedSettings { get; set; } = "";
    [Id(5)] public RateLimitPolicy? RateLimit { get; set; }
    /// <summary>Pending messages in order; the head is the one being delivered.</summary>
    [Id(6)] public List<OutboxMessage> Outbox { get; set; } = [];
    /// <summary>Recent finished deliveries, oldest first, bounded.</summary>
    [Id(7)] public List<DeliveryStatus> History { get; set; } = [];
    [Id(8)] public List<OutboxMessage> DeadLetters { get; set; } = [];
    [Id(9)] public List<IdempotencyEntry> RecentKeys { get; set; } = [];
    /// <summary>Set from a platform's 429: nothing is sent to this channel before it.</summary>
    [Id(10)] public DateTimeOffset? PausedUntil { get; set; }
    [Id(11)] public int ConsecutiveFailures { get; set; }
    [Id(12)] public int ConsecutiveDeadDestinations { get; set; }
    [Id(13)] public string? LastError { get; set; }
    [Id(14)] public string? DisabledReason { get; set; }
}

[GenerateSerializer, Alias("dovecote.OutboxMessage")]
public sealed class OutboxMessage
{
    [Id(0)] public string DeliveryId { get; set; } = "";
    [Id(1)] public Notification Notification { get; set; } = new("");
    [Id(2)] public DateTimeOffset AcceptedAt { get; set; }
    [Id(3)] public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Every send, including successful chunks.</summary>
    [Id(4)] public int Attempts { get; set; }
    /// <summary>Failed attempts counted against the retry budget (429s are not the message's fault).</summary>
    [Id(5)] public int Failures { get; set; }
    /// <summary>Chunks already delivered: a retry resumes after them, so nothing is sent twice or lost.</summary>
    [Id(6)] public int ChunksSent { get; set; }
    [Id(7)] public List<string> MessageIds { get; set; } = [];
    [Id(8)] public DateTimeOffset? NextAttemptAt { get; set; }
    [Id(9)] public string? LastError { get; set; }
}

[GenerateSerializer, Alias("dovecote.IdempotencyEntry")]
public sealed record IdempotencyEntry([property: Id(0)] string Key, [property: Id(1)] string DeliveryId, [property: Id(2)] DateTimeOffset At);
