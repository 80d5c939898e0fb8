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

    public static IReadOnlyList<RenderedChunk> Render(Notification notification, IMarkdownDialect dialect, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(notification);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, MinimumLength);

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

        var blocks = notification.Format == MessageFormat.Markdown
            ? MarkdownBlockRenderer.Render(message, dialect, maxLength)
            : [];

        // Plain format, or Markdown that renders to nothing (only link definitions): send the text as written.
        return blocks.Count > 0 ? blocks : [LiteralBlock(message, dialect)];
    }

    /// <summary>The title is not Markdown; it is one bold line even if it contained line breaks.</summary>
    private static IReadOnlyList<Piece> TitleBlock(string title, IMarkdownDialect dialect)
    {
        var builder = new BlockBuilder();
        builder.TryPush(dialect.Bold);
        builder.Text(string.Join(' ', MarkdownText.NormalizeLineEndings(title).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)), dialect.Literal);
        return builder.Build();
    }

    private static IReadOnlyList<Piece> LiteralBlock(string message, IMarkdownDialect dialect)
    {
        var builder = new BlockBuilder();
        builder.Text(message, dialect.Literal);
        return builder.Build();
    }
}
