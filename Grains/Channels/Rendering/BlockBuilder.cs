namespace Dovecote.Grains.Channels.Rendering;

/// <summary>Collects the pieces of one top-level block while a renderer walks it.</summary>
internal sealed class BlockBuilder
{
    /// <summary>Deeper emphasis nesting adds no markup: it keeps every span's reopen cost bounded.</summary>
    private const int MaxStyleDepth = 12;

    private readonly List<Piece> _pieces = [];
    private Style[] _styles = [];

    public bool IsEmpty => _pieces.TrueForAll(p => p.Kind is PieceKind.NewLine or PieceKind.Space);

    public IReadOnlyList<Piece> Build() => [.. _pieces];

    /// <summary>Opens a span unless an identical one is already open or nesting is too deep; returns whether it did.</summary>
    public bool TryPush(Style? style)
    {
        if (style is null || _styles.Length >= MaxStyleDepth || Array.Exists(_styles, s => s.SameMarkupAs(style)))
        {
            return false;
        }

        _styles = [.. _styles, style.Occurrence()];
        return true;
    }

    public void Pop() => _styles = _styles[..^1];

    public void NewLine() => _pieces.Add(Piece.NewLine);

    public void BlankLine()
    {
        NewLine();
        NewLine();
    }

    public void Atom(string markup, string plain) => _pieces.Add(Piece.Atom(markup, plain, _styles));

    /// <summary>Prose: whitespace runs become droppable break opportunities, newlines become line breaks.</summary>
    public void Text(string raw, TextEncoding encoding) => Tokenize(raw, encoding, keepSpaces: false);

    /// <summary>Code: whitespace is content, kept even where a chunk is cut after it.</summary>
    public void Verbatim(string raw, TextEncoding encoding) => Tokenize(raw, encoding, keepSpaces: true);

    private void Tokenize(string raw, TextEncoding encoding, bool keepSpaces)
    {
        var i = 0;
        while (i < raw.Length)
        {
            if (raw[i] == '\n')
            {
                NewLine();
                i++;
                continue;
            }

            var start = i;
            var isSpace = IsBreakingSpace(raw[i]);
            while (i < raw.Length && raw[i] != '\n' && IsBreakingSpace(raw[i]) == isSpace)
            {
                i++;
            }

            var run = raw[start..i];
            _pieces.Add(!isSpace ? Piece.Text(run, encoding, _styles)
                : keepSpaces ? Piece.KeptSpace(run, encoding, _styles)
                : Piece.Space(run));
        }
    }

    // Only ordinary spaces and tabs break words; a no-break space was put there to hold words together.
    private static bool IsBreakingSpace(char c) => c is ' ' or '\t';
}
