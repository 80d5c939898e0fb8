using System.Globalization;

namespace Dovecote.Grains.Storage;

/// <summary>The key → value map rebuilt from a snapshot and WAL records, plus the highest sequence seen.</summary>
internal sealed class LogState
{
    public Dictionary<string, StoredValue> Entries { get; } = new(StringComparer.Ordinal);

    // Includes deletes and the snapshot end marker, so ETags are never reused after a restart.
    public ulong LastSequence { get; private set; }

    public static string FormatETag(ulong sequence) => sequence.ToString("x16", CultureInfo.InvariantCulture);

    public static ulong ParseETag(string etag) => ulong.Parse(etag, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    public void Apply(in LogRecord record)
    {
        LastSequence = Math.Max(LastSequence, record.Sequence);
        switch (record.Op)
        {
            case LogOp.Write:
                Entries[record.Key] = new StoredValue(FormatETag(record.Sequence), record.Data);
                break;
            case LogOp.Delete:
                Entries.Remove(record.Key);
                break;
        }
    }
}
