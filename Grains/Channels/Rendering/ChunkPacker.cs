using System.Globalization;

namespace Dovecote.Grains.Channels.Rendering;

/// <summary>
/// Packs rendered blocks into chunks of at most maxLength UTF-16 units (markup and plain text alike).
/// Whole blocks are packed greedily, joined by a blank line. A block too big for a chunk of its own is cut at
/// line breaks, then between words, then inside a word as a last resort: at a grapheme boundary where one
/// fits, else between code points, never inside a surrogate pair. Spans are closed at the end of each
/// chunk and reopened in the next, so every chunk is well-formed on its own.
/// </summary>
internal static class ChunkPacker
{
    private enum Level
    {
        Lines,
        Words,
        Pieces,
    }

    public static IReadOnlyList<RenderedChunk> Pack(IReadOnlyList<IReadOnlyList<Piece>> blocks, int maxLength)
    {
        var writer = new ChunkWriter(maxLength);
        foreach (var block in blocks)
        {
            if (writer.HasContent)
            {
                var mark = writer.Save();
                writer.Append(Piece.NewLine);
                writer.Append(Piece.NewLine);
                if (TryAppend(writer, block))
                {
                    continue;
                }

                writer.Restore(mark);
                writer.Flush();
            }

            if (!TryAppend(writer, block))
            {
                Split(writer, block, Level.Lines, maxLength);
            }
        }

        writer.Flush();
        return writer.Chunks;
    }

    private static void Split(ChunkWriter writer, IReadOnlyList<Piece> pieces, Level level, int maxLength)
    {
        foreach (var unit in Units(pieces, level))
        {
            if (TryAppend(writer, unit))
            {
                continue;
            }

            if (writer.HasContent)
            {
                writer.Flush();
                if (TryAppend(writer, unit))
                {
                    continue;
                }
            }

            if (level == Level.Pieces)
            {
                AppendCutting(writer, unit[0], maxLength);
            }
            else
            {
                Split(writer, unit, level + 1, maxLength);
            }
        }
    }

    /// <summary>Appends all pieces if the chunk still fits afterwards; otherwise leaves the writer unchanged.</summary>
    private static bool TryAppend(ChunkWriter writer, IReadOnlyList<Piece> pieces)
    {
        var mark = writer.Save();
        foreach (var piece in pieces)
        {
            writer.Append(piece);
        }

        if (writer.Fits)
        {
            return true;
        }

        writer.Restore(mark);
        return false;
    }

    /// <summary>
    /// Groups pieces at the break opportunities of a level. A separator (newline, space) starts the unit
    /// after it, so the writer drops it when that unit opens a new chunk; kept code whitespace ends its unit.
    /// </summary>
    private static List<IReadOnlyList<Piece>> Units(IReadOnlyList<Piece> pieces, Level level)
    {
        var units = new List<IReadOnlyList<Piece>>();
        var current = new List<Piece>();
        foreach (var piece in pieces)
        {
            var breakBefore = level switch
            {
                Level.Lines => piece.Kind == PieceKind.NewLine,
                Level.Words => piece.Kind is PieceKind.NewLine or PieceKind.Space,
                _ => true,
            };
            if (breakBefore && current.Count > 0)
            {
                units.Add(current);
                current = [];
            }

            current.Add(piece);
            if (level == Level.Words && piece.Kind == PieceKind.KeptSpace)
            {
                units.Add(current);
                current = [];
            }
        }

        if (current.Count > 0)
        {
            units.Add(current);
        }

        return units;
    }

    /// <summary>
    /// The last resort: a single piece that does not fit even in an empty chunk. Plain text is never shorter
    /// than the raw text, so no more than maxLength raw characters can fit: longer text is not even tried.
    /// </summary>
    private static void AppendCutting(ChunkWriter writer, Piece piece, int maxLength)
    {
        while (true)
        {
            if (piece.Raw.Length <= maxLength && TryAppend(writer, [piece]))
            {
                return;
            }

            var cut = piece.IsCuttable ? LongestFittingPrefix(writer, piece, maxLength) : 0;
            if (cut > 0)
            {
                writer.Append(piece with { Raw = piece.Raw[..cut] });
                writer.Flush();
                piece = piece with { Raw = piece.Raw[cut..] };
            }
            else if (writer.HasContent)
            {
                writer.Flush();
            }
            else if (piece.Styles.Length > 0)
            {
                // Even one character does not fit inside its spans' markup: send it without them.
                piece = piece with { Styles = [] };
            }
            else
            {
                throw new InvalidOperationException("The chunk length limit is too small for a single character.");
            }
        }
    }

    /// <summary>
    /// The longest prefix of a piece's text that still fits in the current chunk: cut at a grapheme
    /// boundary, or, when not even one grapheme fits in an empty chunk, at a code point boundary.
    /// </summary>
    private static int LongestFittingPrefix(ChunkWriter writer, Piece piece, int maxLength)
    {
        var cut = LongestFittingPrefix(writer, piece, GraphemeBoundaries(piece.Raw, maxLength));
        return cut > 0 || writer.HasContent ? cut : LongestFittingPrefix(writer, piece, CodePointBoundaries(piece.Raw, maxLength));
    }

    private static int LongestFittingPrefix(ChunkWriter writer, Piece piece, List<int> boundaries)
    {
        // Encoded text grows with the raw text (near enough: an escape may depend on a neighbour), so a binary
        // search finds the longest fitting prefix; whatever it picks has been checked to fit.
        int low = 0, high = boundaries.Count - 1, best = 0;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            if (FitsWith(writer, piece with { Raw = piece.Raw[..boundaries[middle]] }))
            {
                best = boundaries[middle];
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return best;
    }

    private static bool FitsWith(ChunkWriter writer, Piece piece)
    {
        var mark = writer.Save();
        writer.Append(piece);
        var fits = writer.Fits;
        writer.Restore(mark);
        return fits;
    }

    private static List<int> GraphemeBoundaries(string text, int limit)
    {
        // Only the first limit + 1 characters are looked at: a boundary before the window's end is exact.
        var window = text.AsSpan(0, Math.Min(text.Length, limit + 1));
        var boundaries = new List<int>();
        for (var i = 0; i < window.Length;)
        {
            i += StringInfo.GetNextTextElementLength(window[i..]);
            if (i > limit)
            {
                break;
            }

            boundaries.Add(i);
        }

        return boundaries;
    }

    private static List<int> CodePointBoundaries(string text, int limit)
    {
        var boundaries = new List<int>();
        for (var i = 0; i < text.Length;)
        {
            i += char.IsSurrogatePair(text, i) ? 2 : 1;
            if (i > limit)
            {
                break;
            }

            boundaries.Add(i);
        }

        return boundaries;
    }
}
