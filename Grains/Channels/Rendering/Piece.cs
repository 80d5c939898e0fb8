namespace Dovecote.Grains.Channels.Rendering;

internal enum PieceKind
{
    /// <summary>A word (no breaking whitespace); encoded when written, cut only as a last resort.</summary>
    Text,

    /// <summary>Fixed markup that is never cut (a list marker, a whole autolink).</summary>
    Atom,

    /// <summary>Whitespace between words: a break opportunity, dropped when a chunk starts or ends there.</summary>
    Space,

    /// <summary>Whitespace that is content (inside code): a break opportunity after it, never dropped.</summary>
    KeptSpace,

    /// <summary>A line break: the preferred break opportunity, dropped at chunk boundaries.</summary>
    NewLine,
}

/// <summary>The unit the chunker works in: a bit of text and the spans that enclose it, outermost first.</summary>
internal readonly record struct Piece(PieceKind Kind, string Raw, string AtomPlain, TextEncoding? Encoding, Style[] Styles)
{
    public static Piece Text(string raw, TextEncoding encoding, Style[] styles) => new(PieceKind.Text, raw, "", encoding, styles);

    public static Piece KeptSpace(string raw, TextEncoding encoding, Style[] styles) => new(PieceKind.KeptSpace, raw, "", encoding, styles);

    public static Piece Atom(string markup, string plain, Style[] styles) => new(PieceKind.Atom, markup, plain, null, styles);

    public static Piece Space(string raw) => new(PieceKind.Space, raw, "", null, []);

    public static readonly Piece NewLine = new(PieceKind.NewLine, "\n", "", null, []);

    /// <summary>Text and code whitespace can be cut inside; atoms, breaks and separators cannot.</summary>
    public bool IsCuttable => Kind is PieceKind.Text or PieceKind.KeptSpace;

    public string Markup(bool atLineStart) => Encoding?.Markup(Raw, atLineStart) ?? Raw;

    public string Plain() => Kind == PieceKind.Atom ? AtomPlain : Encoding?.Plain(Raw) ?? Raw;
}
