namespace Dovecote.Grains.Channels.Delivery;

/// <summary>
/// Upper bounds on the bytes parts of a channel's state take once stored. The grain storage serializer writes indented
/// System.Text.Json with its default encoder, which escapes every non-ASCII character and the HTML-sensitive ASCII ones
/// as "\uXXXX": six bytes per UTF-16 unit. So a text counts one byte per plain ASCII character and six per any other,
/// and each entry adds a fixed allowance for its property names, indentation, "$id", dates and numbers.
/// </summary>
public static class StoredSize
{
    /// <summary>An outbox message or a delivery status without its strings (names, indentation, dates): well under this.</summary>
    public const int EntryOverhead = 1_024;

    /// <summary>An idempotency entry without its strings: three properties and an "$id".</summary>
    public const int KeyOverhead = 256;

    /// <summary>One element of a list of strings (a platform message id, at most 64 characters): indentation, quotes, comma.</summary>
    public const int ItemOverhead = 32;

    public static long Of(string? text)
    {
        if (text is null) return 0;
        long bytes = 0;
        foreach (var c in text) bytes += IsPlainAscii(c) ? 1 : 6;
        return bytes;
    }

    public static long Of(OutboxMessage message) =>
        EntryOverhead + Of(message.DeliveryId) + Of(message.Notification) + Of(message.LastError) + Of(message.MessageIds);

    /// <summary>What an agent sent: the part of an outbox message the budget is about.</summary>
    public static long Of(Notification notification) => Of(notification.Message) + Of(notification.Title) + Of(notification.Url);

    public static long Of(DeliveryStatus status) => EntryOverhead + Of(status.DeliveryId) + Of(status.ChannelId) + Of(status.LastError) + Of(status.MessageIds);

    public static long Of(IdempotencyEntry entry) => KeyOverhead + Of(entry.Key) + Of(entry.DeliveryId);

    private static long Of(IReadOnlyList<string> items)
    {
        long bytes = 0;
        foreach (var item in items) bytes += ItemOverhead + Of(item);
        return bytes;
    }

    /// <summary>What the default JavaScriptEncoder writes as itself; quotes, backslashes and control characters are escaped.</summary>
    private static bool IsPlainAscii(char c) => c is >= ' ' and < '\x7f' and not ('"' or '\\' or '&' or '\'' or '<' or '>' or '+' or '`');
}
