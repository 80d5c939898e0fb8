using System.Text;
using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Interfaces.Channels;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Dovecote.Grains.Channels.Telegram;

/// <summary>
/// Renders a notification for Telegram's HTML parse mode: only the tags Telegram accepts, all text escaped,
/// each chunk within sendMessage's 4096-unit limit (measured on the HTML, which is never shorter than the
/// text Telegram counts after parsing it).
/// </summary>
internal static class TelegramRenderer
{
    public const int MaxLength = 4096;

    private static readonly Dialect Html = new();

    public static IReadOnlyList<RenderedChunk> Render(Notification notification, int maxLength = MaxLength, RenderLimits? limits = null) =>
        NotificationRenderer.Render(notification, Html, maxLength, limits);

    /// <summary>HTML mode needs only &amp;, &lt; and &gt; escaped in text.</summary>
    private static string Escape(string text) => Escape(text, "&<>");

    /// <summary>An attribute value is quoted, so its quotes are escaped too.</summary>
    private static string EscapeAttribute(string text) => Escape(text, "&<>\"");

    private static string Escape(string text, string special)
    {
        if (text.AsSpan().IndexOfAny(special) < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            builder.Append(!special.Contains(c) ? c.ToString() : c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    // Telegram turns a language-xxx class into syntax highlighting; anything else in it would be markup.
    private static string? Language(FencedCodeBlock? fence)
    {
        var info = fence?.Info;
        if (string.IsNullOrEmpty(info))
        {
            return null;
        }

        var language = new string(info.Where(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '#' or '-' or '_' or '.').Take(32).ToArray());
        return language.Length == 0 ? null : language;
    }

    private sealed class Dialect : IMarkdownDialect
    {
        private static readonly TextEncoding Escaped = new((raw, _) => Escape(raw), raw => raw);
        private static readonly Style BoldStyle = Style.Wrap("<b>", "</b>");
        private static readonly Style ItalicStyle = Style.Wrap("<i>", "</i>");
        private static readonly Style StrikeStyle = Style.Wrap("<s>", "</s>");
        private static readonly Style CodeStyle = Style.Wrap("<code>", "</code>");
        private static readonly Style PreStyle = Style.Wrap("<pre>", "</pre>");
        private static readonly Style QuoteStyle = Style.Wrap("<blockquote>", "</blockquote>");

        public TextEncoding Prose => Escaped;
        public TextEncoding Code => Escaped;
        public TextEncoding Literal => Escaped;
        public TextEncoding LinkLabel => Escaped;
        public Style Bold => BoldStyle;
        public Style Quote => QuoteStyle;
        public bool StylesInLinks => true;

        // Telegram's code entities cannot be combined with a link; the label keeps the text.
        public bool CodeInLinks => false;

        public string ThematicBreak => "———";

        public Style Emphasis(char delimiter, int count) =>
            delimiter == '~' ? StrikeStyle : count >= 2 ? BoldStyle : ItalicStyle;

        public Style InlineCode(CodeInline code) => CodeStyle;

        public Style CodeBlock(FencedCodeBlock? fence, string content) =>
            Language(fence) is { } language
                ? Style.Wrap($"<pre><code class=\"language-{language}\">", "</code></pre>")
                : PreStyle;

        public HeadingMarkup Heading(int level) => new(null, BoldStyle);

        public Fragment ListMarker(ListBlock list, ListItemBlock item, int index) =>
            new(MarkdownText.ListMarker(list, index), MarkdownText.ListMarker(list, index));

        // Backslash escapes matter only to Markdown; in HTML the character is ordinary text.
        public string? EscapedCharacter(char c) => null;

        public Style? Link(string url) =>
            IsLinkable(url) ? Style.Wrap($"<a href=\"{EscapeAttribute(url)}\">", "</a>", plainClose: $" ({url})") : null;

        public Fragment? AutoLink(string url, string text, string source) =>
            IsLinkable(url) ? new Fragment($"<a href=\"{EscapeAttribute(url)}\">{Escape(text)}</a>", text) : null;

        private static bool IsLinkable(string url) => LinkRules.HasScheme(url, "http", "https", "tg", "mailto");
    }
}
