using System.Text;

namespace Dovecote.Grains.Channels.Rendering;

/// <summary>
/// Writes pieces into the current chunk, opening and closing spans as the enclosing styles change, and
/// measures the chunk as it would be sent (with every open span closed). Supports marking and rolling
/// back so the packer can try a piece of content and undo it when it does not fit.
/// </summary>
internal sealed class ChunkWriter(int maxLength)
{
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _plain = new();
    private readonly List<RenderedChunk> _chunks = [];
    private Style[] _open = [];
    private int _pendingNewLines;
    private string? _pendingSpace;
    private bool _hasContent;
    private bool _atLineStart = true;

    public bool HasContent => _hasContent;

    public IReadOnlyList<RenderedChunk> Chunks => _chunks;

    /// <summary>Whether the chunk, closed now, would be within the limit in both forms.</summary>
    public bool Fits =>
        _text.Length + ClosingLength(plain: false) <= maxLength
        && _plain.Length + ClosingLength(plain: true) <= maxLength;

    public Mark Save() => new(_text.Length, _plain.Length, _open, _pendingNewLines, _pendingSpace, _hasContent, _atLineStart);

    public void Restore(Mark mark)
    {
        _text.Length = mark.TextLength;
        _plain.Length = mark.PlainLength;
        _open = mark.Open;
        _pendingNewLines = mark.PendingNewLines;
        _pendingSpace = mark.PendingSpace;
        _hasContent = mark.HasContent;
        _atLineStart = mark.AtLineStart;
    }

    public void Append(in Piece piece)
    {
        switch (piece.Kind)
        {
            // Breaks and separating spaces are only written once content follows them, so a chunk never
            // starts or ends with whitespace that a cut left behind.
            case PieceKind.NewLine:
                if (_hasContent)
                {
                    _pendingNewLines++;
                    _pendingSpace = null;
                }

                break;
            case PieceKind.Space:
                if (_hasContent)
                {
                    _pendingSpace = piece.Raw;
                }

                break;
            default:
                WriteContent(piece);
                break;
        }
    }

    /// <summary>Closes every open span and completes the chunk; nothing happens if it is empty.</summary>
    public void Flush()
    {
        if (!_hasContent)
        {
            return;
        }

        CloseTo(0);
        _chunks.Add(new RenderedChunk(_text.ToString(), _plain.ToString()));
        _text.Clear();
        _plain.Clear();
        _open = [];
        _pendingNewLines = 0;
        _pendingSpace = null;
        _hasContent = false;
        _atLineStart = true;
    }

    private void WriteContent(in Piece piece)
    {
        var common = CommonDepth(_open, piece.Styles);
        CloseTo(common);

        if (_pendingNewLines > 0)
        {
            for (var i = 0; i < _pendingNewLines; i++)
            {
                Write("\n", "\n");

                // An empty line inside a quote still needs its marker, or mrkdwn ends the quote there.
                WriteLinePrefixes(common, trimEnd: i < _pendingNewLines - 1);
            }

            _atLineStart = true;
        }

        if (_pendingSpace is not null)
        {
            Write(_pendingSpace, _pendingSpace);
        }

        _pendingNewLines = 0;
        _pendingSpace = null;

        for (var depth = common; depth < piece.Styles.Length; depth++)
        {
            var style = piece.Styles[depth];
            if (_atLineStart && style.IsPerLine)
            {
                Write(style.LinePrefix!, style.PlainLinePrefix!);
            }
            else
            {
                WriteWithPrefixes(style.Open, style.PlainOpen, piece.Styles, depth);
            }
        }

        _open = piece.Styles;
        Write(piece.Markup(_atLineStart), piece.Plain());
        _hasContent = true;
        _atLineStart = false;
    }

    private void CloseTo(int depth)
    {
        for (var i = _open.Length - 1; i >= depth; i--)
        {
            WriteWithPrefixes(_open[i].Close, _open[i].PlainClose, _open, i);
        }

        _open = _open[..depth];
    }

    private void WriteLinePrefixes(int depth, bool trimEnd)
    {
        for (var i = 0; i < depth; i++)
        {
            if (_open[i].IsPerLine)
            {
                var prefix = _open[i].LinePrefix!;
                var plainPrefix = _open[i].PlainLinePrefix!;
                Write(trimEnd ? prefix.TrimEnd() : prefix, trimEnd ? plainPrefix.TrimEnd() : plainPrefix);
            }
        }
    }

    /// <summary>Writes span markup; a newline inside it (a code fence) is followed by the enclosing line prefixes.</summary>
    private void WriteWithPrefixes(string markup, string plain, Style[] stack, int depth)
    {
        Write(WithPrefixes(markup, stack, depth, plain: false), WithPrefixes(plain, stack, depth, plain: true));
    }

    private static string WithPrefixes(string s, Style[] stack, int depth, bool plain)
    {
        if (!s.Contains('\n'))
        {
            return s;
        }

        var prefixes = string.Concat(stack.Take(depth).Where(x => x.IsPerLine).Select(x => plain ? x.PlainLinePrefix : x.LinePrefix));
        return prefixes.Length == 0 ? s : s.Replace("\n", "\n" + prefixes, StringComparison.Ordinal);
    }

    private int ClosingLength(bool plain)
    {
        var length = 0;
        for (var i = _open.Length - 1; i >= 0; i--)
        {
            length += WithPrefixes(plain ? _open[i].PlainClose : _open[i].Close, _open, i, plain).Length;
        }

        return length;
    }

    private void Write(string text, string plain)
    {
        _text.Append(text);
        _plain.Append(plain);
    }

    private static int CommonDepth(Style[] a, Style[] b)
    {
        var n = Math.Min(a.Length, b.Length);
        var i = 0;
        while (i < n && ReferenceEquals(a[i], b[i]))
        {
            i++;
        }

        return i;
    }

    public readonly record struct Mark(
        int TextLength, int PlainLength, Style[] Open, int PendingNewLines, string? PendingSpace, bool HasContent, bool AtLineStart);
}
