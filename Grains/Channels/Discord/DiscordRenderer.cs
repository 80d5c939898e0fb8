using System.Text;
using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Interfaces.Channels;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Dovecote.Grains.Channels.Discord;

/// <summary>
/// Renders a notification as Discord message content (at most 2000 characters). Discord reads Markdown, so
/// the agent's own syntax is re-emitted from the source: its emphasis delimiters, code fences, list markers
/// and backslash escapes. What Discord lacks is adapted: tables become code blocks, headings below ### become
/// bold lines, and @everyone/@here are defused.
/// </summary>
internal static class DiscordRenderer
{
    public const int MaxLength = 2000;

    private const char ZeroWidthSpace = '\u200B';

    private static readonly Dialect Markdown = new();

    public static IReadOnlyList<RenderedChunk> Render(Notification notification, int maxLength = MaxLength, RenderLimits? limits = null) =>
        NotificationRenderer.Render(notification, Markdown, maxLength, limits);

    /// <summary>
    /// A zero-width space after the @ of @everyone and @here, so the text cannot ping a whole server even if
    /// a request went out without allowed_mentions.
    /// </summary>
    private static string DefuseMentions(string text)
    {
        if (!text.Contains('@'))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 4);
        for (var i = 0; i < text.Length; i++)
        {
            builder.Append(text[i]);
            if (text[i] == '@' && (Follows(text, i + 1, "everyone") || Follows(text, i + 1, "here")))
            {
                builder.Append(ZeroWidthSpace);
            }
        }

        return builder.ToString();
    }

    private static bool Follows(string text, int index, string word) =>
        index + word.Length <= text.Length
        && string.Compare(text, index, word, 0, word.Length, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>
    /// Escapes what would start a heading, quote, subtext or list when it begins a line. A chunk can begin
    /// mid-paragraph, so text that was safe in the source may land at a line start here.
    /// </summary>
    private static string EscapeLineStart(string text)
    {
        if (text.Length == 0)
        {
            return text;
        }

        if (text[0] is '#' or '>' or '-' or '+' or '*')
        {
            return "\\" + text;
        }

        // "12." or "3)" would start an ordered list: escape the delimiter.
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        return digits > 0 && digits < text.Length && text[digits] is '.' or ')'
            ? string.Concat(text.AsSpan(0, digits), "\\", text.AsSpan(digits))
            : text;
    }

    /// <summary>Backslash-escapes every character Discord could read as inline Markdown, for text shown as written.</summary>
    private static string EscapeAll(string text, bool atLineStart)
    {
        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is '\\' or '*' or '_' or '~' or '`' or '|' or '<' or '[' or ']')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        var escaped = builder.ToString();
        return atLineStart && escaped.Length > 0 && escaped[0] != '\\' ? EscapeLineStart(escaped) : escaped;
    }

    private sealed class Dialect : IMarkdownDialect
    {
        private static readonly TextEncoding Source = new(
            (raw, atLineStart) => DefuseMentions(atLineStart ? EscapeLineStart(raw) : raw), DefuseMentions);

        // Mentions inside code never ping, so code is sent untouched; its plain form is not code, so it is defused.
        private static readonly TextEncoding CodeText = new((raw, _) => raw, DefuseMentions);

        private static readonly TextEncoding Escaped = new(
            (raw, atLineStart) => DefuseMentions(EscapeAll(raw, atLineStart)), DefuseMentions);

        private static readonly Style BoldStyle = Style.Wrap("**", "**");
        private static readonly Style QuoteStyle = Style.PerLine("> ", "");

        public TextEncoding Prose => Source;
        public TextEncoding Code => CodeText;
        public TextEncoding Literal => Escaped;
        public TextEncoding LinkLabel => Source;
        public Style Bold => BoldStyle;
        public Style Quote => QuoteStyle;
        public bool StylesInLinks => true;
        public bool CodeInLinks => true;

        // Discord has no horizontal rule; a "---" line would show as dashes anyway.
        public string ThematicBreak => "———";

        public Style Emphasis(char delimiter, int count)
        {
            // The agent's own delimiters: in Discord __x__ is underline, and that is what the agent wrote.
            var marker = new string(delimiter, count);
            return Style.Wrap(marker, marker);
        }

        public Style InlineCode(CodeInline code)
        {
            var ticks = new string('`', code.DelimiterCount);
            var pad = code.Content.StartsWith('`') || code.Content.EndsWith('`') ? " " : "";
            return Style.Wrap(ticks + pad, pad + ticks);
        }

        public Style CodeBlock(FencedCodeBlock? fence, string content)
        {
            // Discord fences only with backticks; the fence must be longer than any backtick run inside.
            var ticks = new string('`', Math.Max(3, LongestBacktickRun(content) + 1));
            var info = fence?.Info ?? "";
            return Style.Wrap($"{ticks}{info}\n", $"\n{ticks}");
        }

        public HeadingMarkup Heading(int level) =>
            level <= 3 ? new(new Fragment(new string('#', level) + " ", ""), null) : new(null, BoldStyle);

        public Fragment ListMarker(ListBlock list, ListItemBlock item, int index) =>
            list.IsOrdered
                ? new Fragment($"{item.Order}{list.OrderedDelimiter} ", $"{item.Order}{list.OrderedDelimiter} ")
                : new Fragment($"{list.BulletType} ", "• ");

        // Keep the agent's escape so the character stays literal.
        public string? EscapedCharacter(char c) => "\\" + c;

        public Style? Link(string url) =>
            IsLinkable(url)
                ? Style.Wrap("[", $"]({LinkRules.PercentEncode(url, " ()<>")})", plainClose: $" ({url})")
                : null;

        // <url> is the agent asking for no embed preview; keep that, otherwise the bare URL.
        public Fragment? AutoLink(string url, string text, string source) =>
            IsLinkable(url)
                ? new Fragment(source.StartsWith('<') ? $"<{LinkRules.PercentEncode(url, " <>")}>" : LinkRules.PercentEncode(url, " "), text)
                : null;

        private static bool IsLinkable(string url) => LinkRules.HasScheme(url, "http", "https");

        private static int LongestBacktickRun(string text)
        {
            int longest = 0, run = 0;
            foreach (var c in text)
            {
                run = c == '`' ? run + 1 : 0;
                longest = Math.Max(longest, run);
            }

            return longest;
        }
    }
}
