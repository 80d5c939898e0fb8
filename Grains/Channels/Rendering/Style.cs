namespace Dovecote.Grains.Channels.Rendering;

/// <summary>
/// A markup span (bold, link, code fence, quote, list indentation) that the chunker closes at the end of a
/// chunk and reopens at the start of the next, so no chunk is sent with unbalanced markup.
/// Compared by reference: two separate bold spans are two spans (see <see cref="Occurrence"/>).
/// </summary>
internal sealed class Style
{
    private Style(string open, string close, string? linePrefix, string plainOpen, string plainClose, string? plainLinePrefix)
    {
        Open = open;
        Close = close;
        LinePrefix = linePrefix;
        PlainOpen = plainOpen;
        PlainClose = plainClose;
        PlainLinePrefix = plainLinePrefix;
    }

    public string Open { get; }
    public string Close { get; }

    /// <summary>Repeated at the start of every line inside the span (quotes in mrkdwn, list indentation); null if none.</summary>
    public string? LinePrefix { get; }

    public string PlainOpen { get; }
    public string PlainClose { get; }
    public string? PlainLinePrefix { get; }

    public bool IsPerLine => LinePrefix is not null;

    /// <summary>A span written as open and close markers; plain text gets the plain markers (usually none).</summary>
    public static Style Wrap(string open, string close, string plainOpen = "", string plainClose = "") =>
        new(open, close, null, plainOpen, plainClose, null);

    /// <summary>A span written as a prefix on each of its lines, in markup and in plain text.</summary>
    public static Style PerLine(string prefix, string plainPrefix) =>
        new(prefix, "", prefix, plainPrefix, "", plainPrefix);

    /// <summary>Indentation of a list item's continuation lines: nothing on the marker line, spaces after.</summary>
    public static Style Indent(int width)
    {
        var spaces = new string(' ', width);
        return new Style("", "", spaces, "", "", spaces);
    }

    /// <summary>
    /// A separate occurrence of the same markup. Every pushed span is its own instance, so two code blocks in
    /// a row are closed and reopened rather than merged into one.
    /// </summary>
    public Style Occurrence() => new(Open, Close, LinePrefix, PlainOpen, PlainClose, PlainLinePrefix);

    /// <summary>True when this span would add nothing inside <paramref name="other"/> (bold inside bold).</summary>
    public bool SameMarkupAs(Style other) =>
        !IsPerLine && !other.IsPerLine && Open == other.Open && Close == other.Close;
}
