namespace Dovecote.Grains.Channels.Rendering;

/// <summary>
/// What one notification may render to, so a small input cannot become hours of messages on a channel: at most
/// <see cref="MaxChunks"/> platform messages, and readable text at most <see cref="MaxExpansion"/> times the input.
/// </summary>
public sealed record RenderLimits(int MaxChunks = RenderLimits.DefaultMaxChunks, int MaxExpansion = RenderLimits.DefaultMaxExpansion)
{
    /// <summary>
    /// The longest message (32,000 characters) needs 16 Discord messages of 2,000, or 42 Slack messages of 3,900 when
    /// every character is an escaped '&amp;'; at a channel's pace of about 1/s that holds it for under a minute.
    /// </summary>
    public const int DefaultMaxChunks = 50;

    /// <summary>Escaping alone can make a text five times longer (an '&amp;' is sent as '&amp;amp;'); padding a table, a thousand.</summary>
    public const int DefaultMaxExpansion = 5;

    public static RenderLimits Default { get; } = new();

    /// <summary>For renderer tests that split into tiny chunks on purpose.</summary>
    internal static RenderLimits Unbounded { get; } = new(int.MaxValue, int.MaxValue);

    /// <summary>Null when <paramref name="chunks"/> fit, else why not.</summary>
    internal string? Check(IReadOnlyList<RenderedChunk> chunks, int inputLength, int maxLength)
    {
        if (chunks.Count > MaxChunks)
            return $"it renders to {chunks.Count} messages of at most {maxLength} characters, and one notification may send at most {MaxChunks}";
        var rendered = chunks.Sum(c => (long)c.PlainText.Length);
        var allowed = Math.Max(maxLength, (long)MaxExpansion * inputLength);
        return rendered > allowed
            ? $"it renders to {rendered} characters, more than {MaxExpansion} times its {inputLength}"
            : null;
    }
}

/// <summary>A notification that cannot be rendered within <see cref="RenderLimits"/>; the message is for the agent and holds no content.</summary>
public sealed class NotificationRenderException(string reason) : Exception(reason);
