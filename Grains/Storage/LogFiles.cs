using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Dovecote.Grains.Storage;

/// <summary>
/// On-disk layout of a <see cref="GrainStateLog"/> folder: WAL generations <c>wal-{n:D10}.log</c> and
/// snapshots <c>snapshot-{n:D10}.dat</c>, where snapshot n holds the state after every WAL up to n.
/// </summary>
internal static class LogFiles
{
    private const string WalPrefix = "wal-";
    private const string WalExtension = ".log";
    private const string SnapshotPrefix = "snapshot-";
    private const string SnapshotExtension = ".dat";
    private const string TempExtension = ".tmp";

    private static ReadOnlySpan<byte> SnapshotMagic => "DVSNAP01"u8;

    public static string WalPath(string directory, long generation) =>
        Path.Combine(directory, $"{WalPrefix}{generation:D10}{WalExtension}");

    public static string SnapshotPath(string directory, long generation) =>
        Path.Combine(directory, $"{SnapshotPrefix}{generation:D10}{SnapshotExtension}");

    public static List<long> WalGenerations(string directory) => Generations(directory, WalPrefix, WalExtension);

    public static List<long> SnapshotGenerations(string directory) => Generations(directory, SnapshotPrefix, SnapshotExtension);

    /// <summary>Deletes snapshots left half-written by a crash during compaction.</summary>
    public static int DeleteTempFiles(string directory)
    {
        int count = 0;
        foreach (string path in Directory.EnumerateFiles(directory, "*" + TempExtension))
        {
            File.Delete(path);
            count++;
        }

        return count;
    }

    /// <summary>Deletes what snapshot <paramref name="snapshotGeneration"/> makes redundant: WALs up to it and older snapshots.</summary>
    public static void DeleteCoveredFiles(string directory, long snapshotGeneration)
    {
        foreach (long generation in WalGenerations(directory).Where(g => g <= snapshotGeneration))
        {
            File.Delete(WalPath(directory, generation));
        }

        foreach (long generation in SnapshotGenerations(directory).Where(g => g < snapshotGeneration))
        {
            File.Delete(SnapshotPath(directory, generation));
        }
    }

    /// <summary>
    /// Applies every intact record of a WAL to <paramref name="state"/> and returns the length of that intact
    /// prefix; <paramref name="intact"/> is false when the file ends in a torn or corrupt record.
    /// </summary>
    public static long ReplayWal(string path, LogState state, out bool intact)
    {
        using FileStream file = OpenRead(path);
        long length = file.Length;
        long good = 0;
        LogReadStatus status;
        while ((status = LogRecordCodec.TryRead(file, length, out LogRecord record)) == LogReadStatus.Record
            && record.Op is LogOp.Write or LogOp.Delete)
        {
            state.Apply(record);
            good = file.Position;
        }

        intact = status == LogReadStatus.EndOfFile;
        return good;
    }

    public static void Truncate(string path, long length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
        file.SetLength(length);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Opens (or creates) a WAL for appending; a new file's name is made durable before any record goes in.</summary>
    public static FileStream OpenWal(string directory, long generation)
    {
        string path = WalPath(directory, generation);
        bool created = !File.Exists(path);
        // No FileStream buffering: the writer loop hands over whole batches and fsyncs right after.
        var wal = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 0,
        });
        if (created)
        {
            SyncDirectory(directory);
        }

        return wal;
    }

    /// <summary>Loads a snapshot, or returns null when it is truncated or fails a record checksum.</summary>
    public static LogState? TryLoadSnapshot(string path)
    {
        using FileStream file = OpenRead(path);
        long length = file.Length;
        Span<byte> magic = stackalloc byte[SnapshotMagic.Length];
        if (length < magic.Length)
        {
            return null;
        }

        file.ReadExactly(magic);
        if (!magic.SequenceEqual(SnapshotMagic))
        {
            return null;
        }

        var state = new LogState();
        while (LogRecordCodec.TryRead(file, length, out LogRecord record) == LogReadStatus.Record)
        {
            switch (record.Op)
            {
                case LogOp.Write:
                    state.Apply(record);
                    break;
                case LogOp.SnapshotEnd:
                    state.Apply(record);
                    return file.Position == length ? state : null;
                default:
                    return null;
            }
        }

        return null;
    }

    /// <summary>
    /// Writes snapshot <paramref name="generation"/> to a temp file, fsyncs it, renames it into place and fsyncs
    /// the folder, so a crash leaves either no new snapshot or a complete one.
    /// </summary>
    public static void WriteSnapshot(string directory, long generation, LogState state)
    {
        string path = SnapshotPath(directory, generation);
        string temp = path + TempExtension;
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
        {
            file.Write(SnapshotMagic);
            var buffer = new ArrayBufferWriter<byte>();
            foreach ((string key, StoredValue value) in state.Entries)
            {
                buffer.ResetWrittenCount();
                LogRecordCodec.Write(buffer, new LogRecord(LogOp.Write, LogState.ParseETag(value.ETag), key, value.Data));
                file.Write(buffer.WrittenSpan);
            }

            buffer.ResetWrittenCount();
            LogRecordCodec.Write(buffer, new LogRecord(LogOp.SnapshotEnd, state.LastSequence, string.Empty, ReadOnlyMemory<byte>.Empty));
            file.Write(buffer.WrittenSpan);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        SyncDirectory(directory);
    }

    /// <summary>
    /// fsyncs a folder so that creating or renaming a file in it survives power loss. .NET cannot open a
    /// directory handle (File.OpenHandle throws UnauthorizedAccessException), so on Unix this calls libc
    /// directly; Windows has no equivalent call and NTFS journals the metadata itself.
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = NativeMethods.Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open folder '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (NativeMethods.FSync(fd) != 0)
            {
                throw new IOException($"fsync of folder '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);

    private static List<long> Generations(string directory, string prefix, string extension)
    {
        var generations = new List<long>();
        foreach (string path in Directory.EnumerateFiles(directory, $"{prefix}*{extension}"))
        {
            string name = Path.GetFileName(path);
            if (name.Length == prefix.Length + 10 + extension.Length
                && name.EndsWith(extension, StringComparison.Ordinal)
                && long.TryParse(name.AsSpan(prefix.Length, 10), NumberStyles.None, CultureInfo.InvariantCulture, out long generation))
            {
                generations.Add(generation);
            }
        }

        generations.Sort();
        return generations;
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int FSync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}
