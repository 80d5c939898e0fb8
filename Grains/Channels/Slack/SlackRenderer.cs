using System.Text;
using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Interfaces.Channels;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Dovecote.Grains.Channels.Slack;

/// <summary>
/// Renders a notification as Slack mrkdwn (not Markdown): *bold*, _italic_, ~strike~, &lt;url|label&gt;
/// links, "&gt; " quotes, and &amp; &lt; &gt; escaped everywhere, plain text included. Chunks stay at
/// 3900 characters, under the 4000 Slack advises for a message's text.
/// </summary>
internal static class SlackRenderer
{
    public const int MaxLength = 3900;

    private const char ZeroWidthSpace = '\u200B';

    // The characters that open and close mrkdwn spans.
    private const string Markers = "*_~`";

    private static readonly Dialect Mrkdwn = new();

    public static IReadOnlyList<RenderedChunk> Render(Notification notification, int maxLength = MaxLength, RenderLimits? limits = null) =>
        NotificationRenderer.Render(notification, Mrkdwn, maxLength, limits);

    /// <summary>Slack requires &amp;, &lt; and &gt; as entities in all text; they are its control characters.</summary>
    private static string Escape(string text)
    {
        if (text.AsSpan().IndexOfAny("&<>") < 0)
        {
            return text;
        }

        return text.Replace("&", "&amp;", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal);
    }

    /// <summary>
    /// mrkdwn has no escape character. A zero-width space before a marker keeps it from opening a span,
    /// so text sent as written cannot turn bold or into code.
    /// </summary>
    private static string Defuse(string text)
    {
        if (text.AsSpan().IndexOfAny(Markers) < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (IsMarker(c))
            {
                builder.Append(ZeroWidthSpace);
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>
    /// Markdown left these markers as text (an unmatched "~5 min", a "~~" that closed nothing), but mrkdwn
    /// would still pair them up. A marker can only open or close a span next to a space or punctuation, so
    /// only those are defused; markers inside words (snake_case) stay untouched.
    /// </summary>
    private static string DefuseLoose(string text)
    {
        if (text.AsSpan().IndexOfAny(Markers) < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 4);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (IsMarker(c) && !(IsWordChar(text, i - 1) && IsWordChar(text, i + 1)))
            {
                builder.Append(ZeroWidthSpace);
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static bool IsWordChar(string text, int index) =>
        index >= 0 && index < text.Length && char.IsLetterOrDigit(text[index]);

    private static bool IsMarker(char c) => Markers.Contains(c);

    // Inside <url|label> a '|' or '>' would end the URL or the label early.
    private static string LinkTarget(string url) => Escape(LinkRules.PercentEncode(url, " <>|"));

    private static string LinkLabel(string label) => Escape(label.Replace("|", "", StringComparison.Ordinal).Replace(">", "", StringComparison.Ordinal));

    private sealed class Dialect : IMarkdownDialect
    {
        private static readonly TextEncoding Escaped = new((raw, _) => Escape(raw), Escape);
        private static readonly TextEncoding Text = new((raw, _) => DefuseLoose(Escape(raw)), Escape);
        private static readonly TextEncoding Defused = new((raw, _) => Defuse(Escape(raw)), Escape);
        private static readonly TextEncoding Label = new((raw, _) => LinkLabel(raw), Escape);
        private static readonly Style BoldStyle = Style.Wrap("*", "*");
        private static readonly Style ItalicStyle = Style.Wrap("_", "_");
        private static readonly Style StrikeStyle = Style.Wrap("~", "~");
        private static readonly Style CodeStyle = Style.Wrap("`", "`");
        private static readonly Style CodeBlockStyle = Style.Wrap("```\n", "\n```");
        private static readonly Style QuoteStyle = Style.PerLine("> ", "");

        public TextEncoding Prose => Text;
        public TextEncoding Code => Escaped;
        public TextEncoding Literal => Defused;
        public TextEncoding LinkLabel => Label;
        public Style Bold => BoldStyle;
        public Style Quote => QuoteStyle;

        // Slack does not format inside a link label; markers there would show as stray characters.
        public bool StylesInLinks => false;
        public bool CodeInLinks => false;

        public string ThematicBreak => "———";

        public Style Emphasis(char delimiter, int count) =>
            delimiter == '~' ? StrikeStyle : count >= 2 ? BoldStyle : ItalicStyle;

        public Style InlineCode(CodeInline code) => CodeStyle;

        // mrkdwn code blocks take no language.
        public Style CodeBlock(FencedCodeBlock? fence, string content) => CodeBlockStyle;

        public HeadingMarkup Heading(int level) => new(null, BoldStyle);

        public Fragment ListMarker(ListBlock list, ListItemBlock item, int index) =>
            new(MarkdownText.ListMarker(list, index), MarkdownText.ListMarker(list, index));

        // The agent escaped a marker to keep it literal; in mrkdwn that takes a zero-width space.
        public string? EscapedCharacter(char c) => IsMarker(c) ? $"{ZeroWidthSpace}{c}" : null;

        public Style? Link(string url) =>
            IsLinkable(url) ? Style.Wrap($"<{LinkTarget(url)}|", ">", plainClose: $" ({Escape(url)})") : null;

        public Fragment? AutoLink(string url, string text, string source) =>
            IsLinkable(url)
                ? new Fragment(text == url ? $"<{LinkTarget(url)}>" : $"<{LinkTarget(url)}|{LinkLabel(text)}>", Escape(text))
                : null;

        private static bool IsLinkable(string url) => LinkRules.HasScheme(url, "http", "https", "mailto");
    }
}
