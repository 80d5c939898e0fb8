using System.Globalization;
using Markdig.Extensions.Tables;

namespace Dovecote.Grains.Channels.Rendering;

/// <summary>
/// None of the chat platforms render tables, so a table becomes monospaced text with padded columns,
/// sent inside a code block.
/// </summary>
internal static class TableLayout
{
    private const string ColumnSeparator = " | ";

    /// <summary>
    /// Padding repeats the widest cell's width on every row, so one long cell over thousands of short rows
    /// would multiply a message's size (and the messages it is sent as). Past this factor over the unpadded
    /// text, columns are not padded.
    /// </summary>
    public const int MaxPaddingExpansion = 2;

    public static string Format(Table table)
    {
        var rows = table.OfType<TableRow>()
            .Select(row => row.OfType<TableCell>().Select(CellText).ToArray())
            .ToList();
        var columns = rows.Count == 0 ? 0 : rows.Max(r => r.Length);
        var widths = new int[columns];
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length; c++)
            {
                widths[c] = Math.Max(widths[c], Width(row[c]));
            }
        }

        var pad = PaddedLength(rows, widths, table) <= MaxPaddingExpansion * (UnpaddedLength(rows) + 1024L);
        var lines = new List<string>();
        var index = 0;
        foreach (var row in table.OfType<TableRow>())
        {
            var cells = rows[index++];
            lines.Add(string.Join(ColumnSeparator, Enumerable.Range(0, columns)
                .Select(c => c >= cells.Length ? "" : pad ? Pad(cells[c], widths[c], Alignment(table, c)) : cells[c])).TrimEnd());
            if (row.IsHeader && pad)
            {
                lines.Add(string.Join("-+-", widths.Select(w => new string('-', w))));
            }
        }

        return string.Join('\n', lines);
    }

    private static long PaddedLength(List<string[]> rows, int[] widths, Table table)
    {
        long line = widths.Sum(w => (long)w) + (ColumnSeparator.Length * Math.Max(0, widths.Length - 1)) + 1;
        var headers = table.OfType<TableRow>().Count(r => r.IsHeader);
        return line * (rows.Count + headers);
    }

    private static long UnpaddedLength(List<string[]> rows) =>
        rows.Sum(r => r.Sum(c => (long)c.Length) + (ColumnSeparator.Length * Math.Max(0, r.Length - 1)) + 1);

    // A cell is one line of readable text: markers are dropped and line breaks become spaces.
    private static string CellText(TableCell cell) =>
        string.Join(" ", cell.OfType<Markdig.Syntax.LeafBlock>().Select(b => MarkdownText.PlainText(b.Inline, " ").Trim()));

    private static TableColumnAlign? Alignment(Table table, int column) =>
        column < table.ColumnDefinitions.Count ? table.ColumnDefinitions[column].Alignment : null;

    private static string Pad(string text, int width, TableColumnAlign? alignment)
    {
        var padding = width - Width(text);
        return alignment switch
        {
            TableColumnAlign.Right => new string(' ', padding) + text,
            TableColumnAlign.Center => new string(' ', padding / 2) + text + new string(' ', padding - (padding / 2)),
            _ => text + new string(' ', padding),
        };
    }

    // Columns line up by grapheme count: an emoji or accented letter is one character wide, not two units.
    private static int Width(string text) => new StringInfo(text).LengthInTextElements;
}
