using System.Runtime.CompilerServices;

namespace Dovecote.Grains.Channels.Delivery;

/// <summary>
/// Upper bounds on the bytes parts of a channel's state take once stored. The grain storage serializer writes
/// System.Text.Json as UTF-8 (<see cref="Storage.StorageJson"/>): a text counts its UTF-8 bytes, six for a control
/// character or a lone surrogate (escaped as "\uXXXX") and two for a quote or backslash, and each entry adds a fixed
/// allowance for its property names, indentation, "$id", dates and numbers.
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
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                bytes += 4; // a pair is one four-byte UTF-8 sequence
                i++;
                continue;
            }
            bytes += c switch
            {
                < ' ' => 6,
                '"' or '\\' => 2,
                < '\x80' => 1,
                < '\u0800' => 2,
                _ when char.IsSurrogate(c) => 6,
                _ => 3,
            };
        }
        return bytes;
    }

    public static long Of(OutboxMessage message) =>
        EntryOverhead + Of(message.DeliveryId) + Of(message.Notification) + Of(message.LastError) + Of(message.MessageIds);

    /// <summary>What an agent sent: the part of an outbox message the budget is about. Measured once per notification (it is
    /// immutable), since every accept sums what is pending.</summary>
    public static long Of(Notification notification) => NotificationSizes.GetValue(notification, Measure).Value;

    private static readonly ConditionalWeakTable<Notification, StrongBox<long>> NotificationSizes = new();

    private static StrongBox<long> Measure(Notification n) => new(Of(n.Message) + Of(n.Title) + Of(n.Url));

    public static long Of(DeliveryStatus status) => EntryOverhead + Of(status.DeliveryId) + Of(status.ChannelId) + Of(status.LastError) + Of(status.MessageIds);

    public static long Of(IdempotencyEntry entry) => KeyOverhead + Of(entry.Key) + Of(entry.DeliveryId);

    private static long Of(IReadOnlyList<string> items)
    {
        long bytes = 0;
        foreach (var item in items) bytes += ItemOverhead + Of(item);
        return bytes;
    }
}
