namespace Dovecote.Grains.Interfaces.Channels;

[GenerateSerializer, Alias("dovecote.NotificationPriority")]
public enum NotificationPriority
{
    Normal = 0,
    /// <summary>Delivered silently where the platform allows it.</summary>
    Low = 1,
    High = 2,
}

[GenerateSerializer, Alias("dovecote.MessageFormat")]
public enum MessageFormat
{
    Markdown = 0,
    Plain = 1,
}

/// <summary>What an agent asked to tell a person. The message is Markdown unless the format says plain.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.Notification")]
public sealed record Notification(
    [property: Id(0)] string Message,
    [property: Id(1)] string? Title = null,
    [property: Id(2)] string? Url = null,
    [property: Id(3)] NotificationPriority Priority = NotificationPriority.Normal,
    [property: Id(4)] MessageFormat Format = MessageFormat.Markdown)
{
    // Every field is kept in the channel's outbox until delivered, so each has a documented bound (README, MCP tools).
    public const int MaxMessageLength = 32_000;
    public const int MaxTitleLength = 256;

    /// <summary>What browsers, chat clients and proxies handle reliably; Uri alone would allow about 65,000.</summary>
    public const int MaxUrlLength = 2_048;

    /// <summary>An idempotency key is remembered per channel for 24 hours (up to IdempotencyCapacity of them).</summary>
    public const int MaxIdempotencyKeyLength = 200;

    public string? Validate() =>
        string.IsNullOrWhiteSpace(Message) ? "message must not be empty"
        : Message.Length > MaxMessageLength ? $"message is longer than {MaxMessageLength} characters"
        : Title is { Length: > MaxTitleLength } ? $"title is longer than {MaxTitleLength} characters"
        : Url is { Length: > MaxUrlLength } ? $"url is longer than {MaxUrlLength} characters"
        : Url is not null && !(Uri.TryCreate(Url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            ? "url must be an absolute http(s) URL"
        : null;

    /// <summary>The problem with an idempotency key sent along with a notification, or null (none is fine).</summary>
    public static string? ValidateIdempotencyKey(string? key) =>
        key is { Length: 0 or > MaxIdempotencyKeyLength } ? $"idempotency_key must be 1 to {MaxIdempotencyKeyLength} characters" : null;
}
