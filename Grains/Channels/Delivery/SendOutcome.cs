namespace Dovecote.Grains.Channels.Delivery;

public enum OutcomeKind
{
    Delivered,
    /// <summary>429, 5xx, timeout, network: try again after a backoff.</summary>
    Retryable,
    /// <summary>The platform said slow down: the whole channel pauses for RetryAfter.</summary>
    RateLimited,
    /// <summary>The platform could not parse our formatting: resend the chunk as plain text, once.</summary>
    MarkupRejected,
    TooLong,
    /// <summary>The destination is gone or refuses us: dead-letter, and count against the channel.</summary>
    DeadDestination,
    /// <summary>This message can never be delivered as it is: dead-letter it.</summary>
    Rejected,
    /// <summary>Telegram moved the group to a supergroup: follow it and resend.</summary>
    ChatMigrated,
}

/// <summary>What one send attempt came to, already classified by the platform's rules.</summary>
public sealed record SendOutcome(
    OutcomeKind Kind,
    string? MessageId = null,
    string? Error = null,
    TimeSpan? RetryAfter = null,
    string? MigrateToChatId = null,
    bool DisableChannel = false)
{
    /// <summary>Errors quote the destination's words and are kept in channel state (history, dead letters),
    /// so a destination cannot grow that state: 300 characters say what went wrong.</summary>
    public const int MaxErrorLength = 300;

    /// <summary>Receipts are short platform ids (a Telegram integer, a Discord snowflake); anything longer is not one.</summary>
    public const int MaxMessageIdLength = 64;

    public string? Error { get; init; } = Cap(Error);

    public string? MessageId { get; init; } = MessageId is { Length: > MaxMessageIdLength } ? null : MessageId;

    /// <summary>A 401, 403 or 429 the platform counts against our egress address (DeliveryHttp sets it from the status).</summary>
    public bool InvalidAnswer { get; init; }

    /// <summary>The platform refused the credential itself (a bot token): every channel using it is disabled.</summary>
    public bool CredentialRejected { get; init; }

    /// <summary>The platform's rate-limit bucket as the answer reported it (Discord), so channels naming one bucket share it.</summary>
    public RateBucket? Bucket { get; init; }

    public static SendOutcome Delivered(string? messageId, TimeSpan? pauseAfter = null) => new(OutcomeKind.Delivered, messageId, RetryAfter: pauseAfter);
    public static SendOutcome Retryable(string error, TimeSpan? retryAfter = null) => new(OutcomeKind.Retryable, Error: error, RetryAfter: retryAfter);
    public static SendOutcome RateLimited(string error, TimeSpan retryAfter) => new(OutcomeKind.RateLimited, Error: error, RetryAfter: retryAfter);
    public static SendOutcome Dead(string error, bool disableChannel = false) => new(OutcomeKind.DeadDestination, Error: error, DisableChannel: disableChannel);
    public static SendOutcome CredentialRefused(string error) => Dead(error, disableChannel: true) with { CredentialRejected = true };
    public static SendOutcome Rejected(string error) => new(OutcomeKind.Rejected, Error: error);

    private static string? Cap(string? error)
    {
        if (error is not { Length: > MaxErrorLength }) return error;
        var keep = MaxErrorLength - 1;
        if (char.IsHighSurrogate(error[keep - 1])) keep--; // never leave half a character
        return string.Concat(error.AsSpan(0, keep), "…");
    }
}

/// <summary>
/// A rate-limit bucket from an answer's headers: <paramref name="Limit"/> requests a window, <paramref name="Remaining"/> left,
/// the window ending in <paramref name="ResetAfter"/>. Read from a destination's answer, so bounded and checked.
/// </summary>
public sealed record RateBucket(string Id, int Limit, int Remaining, TimeSpan ResetAfter);
