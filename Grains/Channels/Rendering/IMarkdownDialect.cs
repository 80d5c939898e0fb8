using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Dovecote.Grains.Channels.Rendering;

/// <summary>Markup that is written as-is in one form and read as <see cref="PlainText"/> in the other.</summary>
internal readonly record struct Fragment(string Text, string PlainText);

/// <summary>How a heading is marked: a line prefix (Discord's "## ") and/or a span around its text.</summary>
internal readonly record struct HeadingMarkup(Fragment? Prefix, Style? Style);

/// <summary>
/// What differs between platforms when rendering Markdown; the walk over the syntax tree, the chunking and
/// the splitting are shared (<see cref="MarkdownBlockRenderer"/>, <see cref="ChunkPacker"/>).
/// </summary>
internal interface IMarkdownDialect
{
    /// <summary>Ordinary text in Markdown messages.</summary>
    TextEncoding Prose { get; }

    /// <summary>Text inside code spans, code blocks and tables.</summary>
    TextEncoding Code { get; }

    /// <summary>Text that must show exactly as written: titles and messages sent in plain format.</summary>
    TextEncoding Literal { get; }

    /// <summary>Text inside a link label.</summary>
    TextEncoding LinkLabel { get; }

    Style Bold { get; }

    Style Quote { get; }

    /// <summary>Whether emphasis and code are formatted inside link labels or flattened to text.</summary>
    bool StylesInLinks { get; }

    /// <summary>Whether inline code is formatted inside link labels.</summary>
    bool CodeInLinks { get; }

    string ThematicBreak { get; }

    Style Emphasis(char delimiter, int count);

    Style InlineCode(CodeInline code);

    /// <summary>A code block span around <paramref name="content"/>; <paramref name="fence"/> is null for indented code and tables.</summary>
    Style CodeBlock(FencedCodeBlock? fence, string content);

    HeadingMarkup Heading(int level);

    Fragment ListMarker(ListBlock list, ListItemBlock item, int index);

    /// <summary>Markup for a character the agent backslash-escaped, or null to treat it as ordinary text.</summary>
    string? EscapedCharacter(char c);

    /// <summary>A span that makes its content a link to <paramref name="url"/>, or null if the URL may not be linked.</summary>
    Style? Link(string url);

    /// <summary>A link shown as its own text (bare URLs, &lt;autolinks&gt;), or null if the URL may not be linked.</summary>
    Fragment? AutoLink(string url, string text, string source);
}
