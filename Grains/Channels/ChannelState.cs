using System.Text.Json.Serialization;

namespace Dovecote.Grains.Channels;

/// <summary>
/// Everything a channel owns but its pending messages, each of which is a record of its own (<see cref="OutboxRecords"/>),
/// so an accept writes one small record instead of this whole state. Bounded in bytes (docs/architecture.md, "State budget").
/// </summary>
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
    /// <summary>
    /// Pending messages in order; the head is the one being delivered. In memory only: loaded from their records on
    /// activation, never stored in this state.
    /// </summary>
    [Id(17), JsonIgnore] public List<OutboxMessage> Outbox { get; set; } = [];
    /// <summary>Where the code before the paged outbox kept pending messages; moved into records on activation, then null.</summary>
    [Id(6), JsonPropertyName("Outbox"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<OutboxMessage>? LegacyOutbox { get; set; }
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
    /// <summary>No pending record is below this sequence: the head's, or <see cref="NextSequence"/> when none is pending.</summary>
    [Id(15)] public long HeadSequence { get; set; }
    /// <summary>
    /// The sequence the next accepted message gets, as of the last write of this state; accepts since then wrote only
    /// their records, so activation probes forward from here while records exist.
    /// </summary>
    [Id(16)] public long NextSequence { get; set; }
    /// <summary>When the settings last changed: a credential a shared budget saw rejected before then may have been fixed.</summary>
    [Id(18)] public DateTimeOffset SettingsChangedAt { get; set; }
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
    /// <summary>Its record's place in the channel's order (state name "outbox.{Sequence}").</summary>
    [Id(10)] public long Sequence { get; set; }
    /// <summary>Kept with the message, so a key acknowledged after the last channel-state write survives a crash.</summary>
    [Id(11)] public string? IdempotencyKey { get; set; }
    /// <summary>
    /// Its stored size as measured while it waited behind the head, where nothing changes it; not stored. Spares the
    /// pending-bytes budget check from serializing every pending message on every accept.
    /// </summary>
    [NonSerialized] internal long QueuedSize;
}

[GenerateSerializer, Alias("dovecote.IdempotencyEntry")]
public sealed record IdempotencyEntry([property: Id(0)] string Key, [property: Id(1)] string DeliveryId, [property: Id(2)] DateTimeOffset At);

/// <summary>Stored as "outbox-window" beside the records: below <see cref="End"/>, records may have gaps (<see cref="OutboxRecords"/>).</summary>
[GenerateSerializer, Alias("dovecote.OutboxWindow")]
public sealed class OutboxWindow
{
    [Id(0)] public long End { get; set; }
}
