using Dovecote.Grains.Interfaces.Channels;

namespace Dovecote.Grains.Channels.Rendering;

/// <summary>
/// The part of rendering a notification every platform shares: a bold title line, the message (Markdown,
/// or plain text shown exactly as written), a final link line, then packing into chunks.
/// </summary>
internal static class NotificationRenderer
{
    /// <summary>Below this a chunk cannot hold a character together with the markup around it.</summary>
    public const int MinimumLength = 64;

    /// <summary>
    /// Markdown that renders past <paramref name="limits"/> is sent as the text it was written as; if even that
    /// does not fit, or Markdig cannot parse it, <see cref="NotificationRenderException"/> says why.
    /// </summary>
    public static IReadOnlyList<RenderedChunk> Render(Notification notification, IMarkdownDialect dialect, int maxLength, RenderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(notification);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, MinimumLength);
        limits ??= RenderLimits.Default;
        var inputLength = (notification.Message?.Length ?? 0) + (notification.Title?.Length ?? 0) + (notification.Url?.Length ?? 0);

        var chunks = Pack(notification, dialect, maxLength);
        var problem = limits.Check(chunks, inputLength, maxLength);
        if (problem is not null && notification.Format == MessageFormat.Markdown)
        {
            chunks = Pack(notification with { Format = MessageFormat.Plain }, dialect, maxLength);
            problem = limits.Check(chunks, inputLength, maxLength);
        }

        return problem is null ? chunks : throw new NotificationRenderException($"The message cannot be sent: {problem}. Shorten it.");
    }

    private static IReadOnlyList<RenderedChunk> Pack(Notification notification, IMarkdownDialect dialect, int maxLength)
    {
        var blocks = new List<IReadOnlyList<Piece>>();
        if (!string.IsNullOrWhiteSpace(notification.Title))
        {
            blocks.Add(TitleBlock(notification.Title, dialect));
        }

        blocks.AddRange(MessageBlocks(notification, dialect, maxLength));

        if (!string.IsNullOrWhiteSpace(notification.Url))
        {
            blocks.Add(MarkdownBlockRenderer.LinkLine(notification.Url.Trim(), dialect, maxLength));
        }

        return ChunkPacker.Pack(blocks, maxLength);
    }

    private static List<IReadOnlyList<Piece>> MessageBlocks(Notification notification, IMarkdownDialect dialect, int maxLength)
    {
        var message = MarkdownText.NormalizeLineEndings(notification.Message ?? "");
        if (string.IsNullOrWhiteSpace(message))
        {
            return [];
        }

        var blocks = notification.Format == MessageFormat.Markdown ? MarkdownBlocks(message, dialect, maxLength) : [];

        // Plain format, or Markdown that renders to nothing (only link definitions): send the text as written.
        return blocks.Count > 0 ? blocks : [LiteralBlock(message, dialect)];
    }

    private static List<IReadOnlyList<Piece>> MarkdownBlocks(string message, IMarkdownDialect dialect, int maxLength)
    {
        try
        {
            return MarkdownBlockRenderer.Render(message, dialect, maxLength);
        }
        catch (ArgumentException)
        {
            // Markdig's depth limit ("> > > ..." or lists nested hundreds deep); its message quotes no input.
            throw new NotificationRenderException(
                "The message nests Markdown too deeply to render (quotes or lists hundreds of levels deep). Flatten it, or send it with format \"plain\".");
        }
    }

    /// <summary>The title is not Markdown; it is one bold line even if it contained line breaks.</summary>
    private static IReadOnlyList<Piece> TitleBlock(string title, IMarkdownDialect dialect)
    {
        var builder = new BlockBuilder();
        builder.TryPush(dialect.Bold);
        builder.Text(
            string.Join(' ', MarkdownText.NormalizeLineEndings(title).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)),
            dialect.Literal);
        return builder.Build();
    }

    private static IReadOnlyList<Piece> LiteralBlock(string message, IMarkdownDialect dialect)
    {
        var builder = new BlockBuilder();
        builder.Text(message, dialect.Literal);
        return builder.Build();
    }
}
