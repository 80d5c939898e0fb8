using System.Text;
using Markdig;
using Markdig.Extensions.EmphasisExtras;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Dovecote.Grains.Channels.Rendering;

/// <summary>Parsing agent Markdown and reading text back out of Markdig's syntax tree.</summary>
internal static class MarkdownText
{
    /// <summary>
    /// CommonMark plus what agents use from GFM: ~~strike~~ (only the two-tilde form, so "~5 min" stays text),
    /// pipe tables and bare URLs. A built pipeline is immutable and safe to share between threads.
    /// </summary>
    public static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UseEmphasisExtras(EmphasisExtraOptions.Strikethrough)
        .UsePipeTables()
        .UseAutoLinks()
        .Build();

    /// <summary>Line endings become "\n" everywhere, so source spans and output never mix CR and LF.</summary>
    public static string NormalizeLineEndings(string text) =>
        text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');

    public static MarkdownDocument Parse(string normalized) => Markdown.Parse(normalized, Pipeline);

    /// <summary>The source text a node was parsed from (Markdig spans are inclusive at both ends).</summary>
    public static string Source(string source, MarkdownObject node) =>
        node.Span.IsEmpty || node.Span.Start < 0 || node.Span.End >= source.Length
            ? ""
            : source.Substring(node.Span.Start, node.Span.Length);

    /// <summary>The readable text of inlines: no markers, entities decoded, links reduced to their labels.</summary>
    public static string PlainText(Inline? inline, string lineBreak = "\n")
    {
        var builder = new StringBuilder();
        AppendPlainText(builder, inline, lineBreak);
        return builder.ToString();
    }

    /// <summary>
    /// A list marker for platforms without lists: a bullet, or the item's number counted from the list's
    /// start (CommonMark numbers "1. 1. 1." as 1, 2, 3).
    /// </summary>
    public static string ListMarker(ListBlock list, int index) =>
        !list.IsOrdered ? "• "
        : int.TryParse(list.OrderedStart, System.Globalization.CultureInfo.InvariantCulture, out var start) ? $"{start + index}. "
        : $"{index + 1}. ";

    public static string LeafLines(LeafBlock block) =>
        string.Join('\n', block.Lines.Lines.Take(block.Lines.Count).Select(line => line.Slice.ToString()));

    private static void AppendPlainText(StringBuilder builder, Inline? inline, string lineBreak)
    {
        switch (inline)
        {
            case null:
                break;
            case LiteralInline literal:
                builder.Append(literal.Content.ToString());
                break;
            case CodeInline code:
                builder.Append(code.Content);
                break;
            case HtmlEntityInline entity:
                builder.Append(entity.Transcoded.ToString());
                break;
            case HtmlInline html:
                builder.Append(html.Tag);
                break;
            case AutolinkInline autolink:
                builder.Append(autolink.Url);
                break;
            case LineBreakInline:
                builder.Append(lineBreak);
                break;
            case ContainerInline container:
                foreach (var child in container)
                {
                    AppendPlainText(builder, child, lineBreak);
                }

                break;
        }
    }
}
