using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Dovecote.Grains.Channels.Rendering;

/// <summary>
/// Walks Markdig's syntax tree and turns each top-level block into pieces for the chunker, asking the
/// platform's dialect for every bit of markup. One instance renders one message.
/// </summary>
internal sealed class MarkdownBlockRenderer
{
    private readonly IMarkdownDialect _dialect;
    private readonly string _source;

    // Span markup is repeated in every chunk a span reaches, and atoms are never cut, so both are kept to a
    // fraction of a chunk; a longer link is written out as text instead.
    private readonly int _maxSpanMarkup;
    private readonly int _maxAtom;

    private BlockBuilder _builder = new();
    private TextEncoding _prose;
    private bool _inQuote;
    private bool _inLink;

    private MarkdownBlockRenderer(IMarkdownDialect dialect, string source, int maxLength)
    {
        _dialect = dialect;
        _source = source;
        _prose = dialect.Prose;
        _maxSpanMarkup = maxLength / 4;
        _maxAtom = maxLength / 2;
    }

    /// <summary>Renders Markdown (line endings already normalized) into one piece list per top-level block.</summary>
    public static List<IReadOnlyList<Piece>> Render(string source, IMarkdownDialect dialect, int maxLength)
    {
        var renderer = new MarkdownBlockRenderer(dialect, source, maxLength);
        var blocks = new List<IReadOnlyList<Piece>>();
        foreach (var block in MarkdownText.Parse(source))
        {
            renderer._builder = new BlockBuilder();
            renderer.RenderBlock(block);
            if (!renderer._builder.IsEmpty)
            {
                blocks.Add(renderer._builder.Build());
            }
        }

        return blocks;
    }

    /// <summary>A block holding just a link to <paramref name="url"/> (the notification's own URL line).</summary>
    public static IReadOnlyList<Piece> LinkLine(string url, IMarkdownDialect dialect, int maxLength)
    {
        var renderer = new MarkdownBlockRenderer(dialect, url, maxLength);
        renderer.AutoLink(url, url, url);
        return renderer._builder.Build();
    }

    private void RenderBlock(Block block)
    {
        switch (block)
        {
            case HeadingBlock heading:
                Heading(heading);
                break;
            case ParagraphBlock paragraph:
                Inlines(paragraph.Inline);
                break;
            case ThematicBreakBlock:
                _builder.Atom(_dialect.ThematicBreak, _dialect.ThematicBreak);
                break;
            case FencedCodeBlock fenced:
                Code(MarkdownText.LeafLines(fenced), fenced);
                break;
            case CodeBlock indented:
                Code(MarkdownText.LeafLines(indented), null);
                break;
            case HtmlBlock html:
                // Raw HTML is never passed through: it is shown as the text the agent wrote.
                _builder.Text(MarkdownText.LeafLines(html), _prose);
                break;
            case Table table:
                Code(TableLayout.Format(table), null);
                break;
            case QuoteBlock quote:
                Quote(quote);
                break;
            case ListBlock list:
                List(list);
                break;
            case LinkReferenceDefinitionGroup:
                // Definitions are not content; the links that use them carry the resolved URL.
                break;
            case LeafBlock leaf when leaf.Inline is not null:
                Inlines(leaf.Inline);
                break;
            case LeafBlock leaf:
                _builder.Text(MarkdownText.LeafLines(leaf), _prose);
                break;
            case ContainerBlock container:
                Children(container);
                break;
        }
    }

    private void Heading(HeadingBlock heading)
    {
        var markup = _dialect.Heading(heading.Level);
        if (markup.Prefix is { } prefix)
        {
            _builder.Atom(prefix.Text, prefix.PlainText);
        }

        var pushed = _builder.TryPush(markup.Style);
        Inlines(heading.Inline);
        PopIf(pushed);
    }

    private void Code(string text, FencedCodeBlock? fence)
    {
        var pushed = _builder.TryPush(_dialect.CodeBlock(fence, text));
        _builder.Verbatim(text, _dialect.Code);
        PopIf(pushed);
    }

    private void Quote(QuoteBlock quote)
    {
        // No platform nests quotes (Telegram rejects nested blockquotes): inner quotes join the outer one.
        if (_inQuote)
        {
            Children(quote);
            return;
        }

        var pushed = _builder.TryPush(_dialect.Quote);
        _inQuote = true;
        Children(quote);
        _inQuote = false;
        PopIf(pushed);
    }

    private void Children(ContainerBlock container)
    {
        var first = true;
        foreach (var child in container)
        {
            if (child is LinkReferenceDefinitionGroup)
            {
                continue;
            }

            if (!first)
            {
                _builder.BlankLine();
            }

            RenderBlock(child);
            first = false;
        }
    }

    private void List(ListBlock list)
    {
        var index = 0;
        foreach (var item in list.OfType<ListItemBlock>())
        {
            if (index > 0)
            {
                _builder.NewLine();
            }

            var marker = _dialect.ListMarker(list, item, index++);
            _builder.Atom(marker.Text, marker.PlainText);

            // Continuation lines and nested lists line up under the item's text.
            var pushed = _builder.TryPush(Style.Indent(marker.Text.Length));
            var first = true;
            foreach (var child in item)
            {
                if (!first || child is not ParagraphBlock)
                {
                    _builder.NewLine();
                }

                RenderBlock(child);
                first = false;
            }

            PopIf(pushed);
        }
    }

    private void Inlines(ContainerInline? container)
    {
        if (container is null)
        {
            return;
        }

        foreach (var inline in container)
        {
            Inline(inline);
        }
    }

    private void Inline(Inline inline)
    {
        switch (inline)
        {
            case LiteralInline literal:
                Literal(literal);
                break;
            case EmphasisInline emphasis:
                Emphasis(emphasis);
                break;
            case CodeInline code:
                InlineCode(code);
                break;
            case LinkInline { IsAutoLink: true } autolink:
                AutoLink(autolink.Url ?? "", MarkdownText.PlainText(autolink), MarkdownText.Source(_source, autolink));
                break;
            case LinkInline link:
                Link(link);
                break;
            case AutolinkInline autolink:
                AutoLink(autolink.IsEmail ? "mailto:" + autolink.Url : autolink.Url, autolink.Url, MarkdownText.Source(_source, autolink));
                break;
            case LineBreakInline:
                _builder.NewLine();
                break;
            case HtmlEntityInline entity:
                _builder.Text(entity.Transcoded.ToString(), _prose);
                break;
            case HtmlInline html:
                _builder.Text(html.Tag, _prose);
                break;
            case ContainerInline container:
                Inlines(container);
                break;
            default:
                _builder.Text(MarkdownText.Source(_source, inline), _prose);
                break;
        }
    }

    private void Emphasis(EmphasisInline emphasis)
    {
        var pushed = (!_inLink || _dialect.StylesInLinks)
            && _builder.TryPush(_dialect.Emphasis(emphasis.DelimiterChar, emphasis.DelimiterCount));
        Inlines(emphasis);
        PopIf(pushed);
    }

    private void Literal(LiteralInline literal)
    {
        var content = literal.Content.ToString();
        if (literal.IsFirstCharacterEscaped && content.Length > 0 && _dialect.EscapedCharacter(content[0]) is { } escaped)
        {
            _builder.Atom(escaped, _prose.Plain(content[..1]));
            content = content[1..];
        }

        _builder.Text(content, _prose);
    }

    private void InlineCode(CodeInline code)
    {
        if (_inLink && !_dialect.CodeInLinks)
        {
            _builder.Verbatim(code.Content, _prose);
            return;
        }

        var pushed = _builder.TryPush(_dialect.InlineCode(code));
        _builder.Verbatim(code.Content, pushed ? _dialect.Code : _prose);
        PopIf(pushed);
    }

    private void Link(LinkInline link)
    {
        var url = link.GetDynamicUrl?.Invoke() ?? link.Url ?? "";
        var label = MarkdownText.PlainText(link);
        if (_inLink)
        {
            // An image inside a link: its alt text is part of the outer label.
            _builder.Text(label, _prose);
            return;
        }

        var style = _dialect.Link(url);
        if (style is not null && (label.Length == 0 || label == url))
        {
            AutoLink(url, url, url);
            return;
        }

        var pushed = style is not null
            && style.Open.Length + style.Close.Length <= _maxSpanMarkup
            && _builder.TryPush(style);
        var outer = _prose;
        _inLink = pushed;
        _prose = pushed ? _dialect.LinkLabel : outer;
        if (link.IsImage)
        {
            _builder.Text(label, _prose);
        }
        else
        {
            Inlines(link);
        }

        _prose = outer;
        _inLink = false;
        PopIf(pushed);

        if (style is not null && !pushed)
        {
            // Too long to repeat as markup in every chunk: the address is written out so it is not lost.
            _builder.Text(" (" + url + ")", _prose);
        }
    }

    private void AutoLink(string url, string text, string source)
    {
        if (_dialect.AutoLink(url, text, source) is { } link && link.Text.Length <= _maxAtom && link.PlainText.Length <= _maxAtom)
        {
            _builder.Atom(link.Text, link.PlainText);
        }
        else
        {
            _builder.Text(text, _prose);
        }
    }

    private void PopIf(bool pushed)
    {
        if (pushed)
        {
            _builder.Pop();
        }
    }
}
