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
    public const int MaxMessageLength = 32_000;
    public const int MaxTitleLength = 256;

    public string? Validate() =>
        string.IsNullOrWhiteSpace(Message) ? "message must not be empty"
        : Message.Length > MaxMessageLength ? $"message is longer than {MaxMessageLength} characters"
        : Title is { Length: > MaxTitleLength } ? $"title is longer than {MaxTitleLength} characters"
        : Url is not null && !(Uri.TryCreate(Url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            ? "url must be an absolute http(s) URL"
        : null;
}
