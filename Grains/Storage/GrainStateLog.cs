using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Dovecote.Grains.Storage;

/// <summary>
/// Durable key → (ETag, bytes) store on local disk for embedded, single-node deployments.
/// Every live value is kept in memory, so reads never touch the disk and the data set must fit in RAM;
/// the disk holds a write-ahead log (WAL) for durability and a snapshot that bounds recovery time.
/// A write is acknowledged only after its record is fsync'd; one writer loop batches the records of all
/// concurrent callers into a single write + fsync (group commit). Only one process may open a folder.
/// Memory is updated before the fsync, so a read can see a write whose caller is still waiting for it;
/// that write either becomes durable or dies with the process, and a failed fsync faults the whole log.
/// </summary>
public sealed class GrainStateLog : IAsyncDisposable
{
    private const string LockFileName = "LOCK";

    // Caps one batch so a burst of large values doesn't build an unbounded buffer.
    private const int MaxBatchBytes = 4 * 1024 * 1024;

    private readonly GrainStateLogOptions _options;
    private readonly ILogger<GrainStateLog> _logger;
    private readonly string _directory;
    private readonly FileStream _lockFile;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredValue> _entries;
    private readonly Channel<PendingRecord> _queue =
        Channel.CreateUnbounded<PendingRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writerLoop;

    // Guarded by _gate.
    private ulong _sequence;
    private Exception? _faultCause;
    private bool _closing;

    // Owned by the writer loop.
    private FileStream _wal = null!;
    private long _walGeneration;
    private long _walLength;
    private Task _compaction = Task.CompletedTask;

    // Written by recovery, then only by the (one at a time) compaction task.
    private long _snapshotGeneration;

    private long _writes;
    private long _flushes;

    public GrainStateLog(GrainStateLogOptions options, ILogger<GrainStateLog> logger)
    {
        _options = options;
        _logger = logger;
        _directory = Path.GetFullPath(options.Directory);
        Directory.CreateDirectory(_directory);
        _lockFile = AcquireLock(_directory);
        try
        {
            LogState state = Recover();
            _entries = state.Entries;
            _sequence = state.LastSequence;
        }
        catch
        {
            _wal?.Dispose();
            _lockFile.Dispose();
            throw;
        }

        // Its own thread: each batch blocks in fsync for milliseconds, which on a thread-pool thread (two on two cores)
        // would stall every grain and request queued behind it.
        _writerLoop = Task.Factory.StartNew(RunWriter, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Records written (writes and deletes) since this instance was opened.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>fsyncs of the WAL since this instance was opened; <see cref="Writes"/> / this = records per fsync.</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    public bool TryGet(string key, out StoredValue value)
    {
        lock (_gate)
        {
            ThrowIfUnavailable();
            return _entries.TryGetValue(key, out value);
        }
    }

    public IReadOnlyList<KeyValuePair<string, StoredValue>> Scan(string prefix)
    {
        lock (_gate)
        {
            ThrowIfUnavailable();
            return _entries.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        }
    }

    /// <summary>
    /// Stores <paramref name="data"/> if the key's current ETag equals <paramref name="expectedETag"/>
    /// (null: the key must not exist) and returns the new ETag once the write is durable.
    /// Cancellation is observed only before the write is applied.
    /// </summary>
    /// <exception cref="ETagMismatchException">The stored ETag differs.</exception>
    public Task<string> WriteAsync(string key, string? expectedETag, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        AppendAsync(LogOp.Write, key, checkETag: true, expectedETag, data, ct);

    /// <summary>
    /// <see cref="WriteAsync"/> without the copy: the log keeps <paramref name="data"/> itself, so the caller hands it over
    /// and never changes it again (a freshly serialized state, say).
    /// </summary>
    internal Task<string> WriteOwnedAsync(string key, string? expectedETag, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Submit(LogOp.Write, key, checkETag: true, expectedETag, data);
    }

    /// <summary>Stores <paramref name="data"/> whatever the current ETag is; returns the new ETag once durable.</summary>
    public Task<string> UpsertAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        AppendAsync(LogOp.Write, key, checkETag: false, expectedETag: null, data, ct);

    /// <summary>
    /// Deletes the key if its current ETag equals <paramref name="expectedETag"/>; deleting a missing key with a
    /// null ETag succeeds. Completes once durable.
    /// </summary>
    /// <exception cref="ETagMismatchException">The stored ETag differs.</exception>
    public Task DeleteAsync(string key, string? expectedETag, CancellationToken ct = default) =>
        AppendAsync(LogOp.Delete, key, checkETag: true, expectedETag, ReadOnlyMemory<byte>.Empty, ct);

    /// <summary>Waits for queued writes to become durable, then closes the files and releases the folder lock.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
            _queue.Writer.TryComplete();
        }

        await _writerLoop.ConfigureAwait(false);
        await _compaction.ConfigureAwait(false);
        await _wal.DisposeAsync().ConfigureAwait(false);
        await _lockFile.DisposeAsync().ConfigureAwait(false);
    }

    private static FileStream AcquireLock(string directory)
    {
        string path = Path.Combine(directory, LockFileName);
        try
        {
            // FileShare.None takes an exclusive OS lock (flock on Unix) that dies with the process.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException(
                $"Grain state folder '{directory}' is already in use by another process or store instance; " +
                "embedded storage allows one owner per folder.",
                ex);
        }
    }

    private Task<string> AppendAsync(
        LogOp op, string key, bool checkETag, string? expectedETag, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<string>(ct);
        }

        // Copy outside the lock: the caller may reuse its buffer, and the copy is what memory and disk keep.
        return Submit(op, key, checkETag, expectedETag, data.ToArray());
    }

    private Task<string> Submit(LogOp op, string key, bool checkETag, string? expectedETag, byte[] owned)
    {
        try
        {
            return Enqueue(op, key, checkETag, expectedETag, owned).Completion.Task;
        }
        catch (Exception ex)
        {
            // Conflicts, a faulted or closed log: reported through the task like every other outcome.
            return Task.FromException<string>(ex);
        }
    }

    private PendingRecord Enqueue(LogOp op, string key, bool checkETag, string? expectedETag, byte[] data)
    {
        lock (_gate)
        {
            ThrowIfUnavailable();
            bool exists = _entries.TryGetValue(key, out StoredValue current);
            if (checkETag && !string.Equals(exists ? current.ETag : null, expectedETag, StringComparison.Ordinal))
            {
                throw new ETagMismatchException(key, expectedETag, exists ? current.ETag : null);
            }

            // Sequence, memory and queue order are decided together so the WAL replays in exactly this order.
            // Even a no-op delete is logged: its completion then implies every earlier write is durable.
            ulong sequence = ++_sequence;
            string etag = LogState.FormatETag(sequence);
            if (op == LogOp.Write)
            {
                _entries[key] = new StoredValue(etag, data);
            }
            else
            {
                _entries.Remove(key);
            }

            var pending = new PendingRecord(new LogRecord(op, sequence, key, data), etag);
            _queue.Writer.TryWrite(pending);
            return pending;
        }
    }

    private void ThrowIfUnavailable()
    {
        if (_faultCause is not null)
        {
            throw FaultedException(_faultCause);
        }

        ObjectDisposedException.ThrowIf(_closing, this);
    }

    private InvalidOperationException FaultedException(Exception cause) => new(
        $"Grain state log in '{_directory}' is faulted after an I/O error and accepts no more operations; " +
        "restart the process to recover from disk.",
        cause);

    private LogState Recover()
    {
        int temps = LogFiles.DeleteTempFiles(_directory);
        if (temps > 0)
        {
            _logger.LogInformation("Deleted {Count} unfinished snapshot file(s) in {Directory}", temps, _directory);
        }

        (LogState state, long snapshotGeneration) = LoadNewestSnapshot();
        List<long> wals = LogFiles.WalGenerations(_directory).Where(g => g > snapshotGeneration).ToList();
        for (int i = 0; i < wals.Count; i++)
        {
            long expected = snapshotGeneration + 1 + i;
            if (wals[i] != expected)
            {
                throw new InvalidDataException(
                    $"Grain state folder '{_directory}' is missing WAL generation {expected}; refusing to open with a gap in the history.");
            }

            string path = LogFiles.WalPath(_directory, wals[i]);
            long intactLength = LogFiles.ReplayWal(path, state, out bool intact);
            if (intact)
            {
                continue;
            }

            // Only the newest WAL can end in a torn record: older ones were fsync'd before the next was created.
            if (i != wals.Count - 1)
            {
                throw new InvalidDataException(
                    $"Sealed WAL '{path}' is corrupt at byte {intactLength}; refusing to open with acknowledged writes missing.");
            }

            _logger.LogWarning(
                "WAL {Path} ends in a torn or corrupt record at byte {Offset} (a write interrupted by a crash, never acknowledged); truncating it there",
                path,
                intactLength);
            LogFiles.Truncate(path, intactLength);
        }

        _snapshotGeneration = snapshotGeneration;
        LogFiles.DeleteCoveredFiles(_directory, snapshotGeneration);
        _walGeneration = wals.Count > 0 ? wals[^1] : snapshotGeneration + 1;
        _wal = LogFiles.OpenWal(_directory, _walGeneration);
        _walLength = _wal.Length;
        _logger.LogInformation(
            "Opened grain state log {Directory}: {Count} entries from snapshot {Snapshot} and {Wals} WAL file(s)",
            _directory,
            state.Entries.Count,
            snapshotGeneration,
            wals.Count);
        return state;
    }

    private (LogState State, long Generation) LoadNewestSnapshot()
    {
        foreach (long generation in Enumerable.Reverse(LogFiles.SnapshotGenerations(_directory)))
        {
            string path = LogFiles.SnapshotPath(_directory, generation);
            if (LogFiles.TryLoadSnapshot(path) is { } state)
            {
                return (state, generation);
            }

            _logger.LogWarning("Snapshot {Path} is incomplete or corrupt; falling back to an older snapshot and its WALs", path);
        }

        return (new LogState(), 0);
    }

    private void RunWriter()
    {
        ChannelReader<PendingRecord> reader = _queue.Reader;
        var batch = new List<PendingRecord>();
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            // Everything queued while the previous fsync ran goes into this one: that is the group commit.
            batch.Clear();
            long batchBytes = 0;
            while (batchBytes < MaxBatchBytes && reader.TryRead(out PendingRecord? pending))
            {
                batch.Add(pending);
                batchBytes += pending.Record.Key.Length + pending.Record.Data.Length;
            }

            Exception? failure = FlushBatch(batch, buffer);
            foreach (PendingRecord pending in batch)
            {
                if (failure is null)
                {
                    pending.Completion.TrySetResult(pending.ETag);
                }
                else
                {
                    pending.Completion.TrySetException(failure);
                }
            }

            if (failure is null)
            {
                RotateIfNeeded();
            }
        }
    }

    /// <summary>Appends one batch with a single write and fsync; returns the exception to fail it with, or null.</summary>
    private Exception? FlushBatch(List<PendingRecord> batch, ArrayBufferWriter<byte> buffer)
    {
        Exception? cause = Volatile.Read(ref _faultCause);
        if (cause is not null)
        {
            return FaultedException(cause);
        }

        try
        {
            buffer.ResetWrittenCount();
            foreach (PendingRecord pending in batch)
            {
                LogRecordCodec.Write(buffer, pending.Record);
            }

            _wal.Write(buffer.WrittenSpan);
            _wal.Flush(flushToDisk: true);
        }
        catch (Exception ex)
        {
            // After a failed fsync the kernel may have dropped the dirty pages; retrying could report
            // success for data that never reached the disk, so the log stops for good.
            return Fault(ex);
        }

        _walLength += buffer.WrittenCount;
        Interlocked.Add(ref _writes, batch.Count);
        Interlocked.Increment(ref _flushes);
        return null;
    }

    private Exception Fault(Exception cause)
    {
        _logger.LogCritical(cause, "Grain state log {Directory} failed to write or fsync its WAL; it is now faulted", _directory);
        lock (_gate)
        {
            _faultCause ??= cause;
            return FaultedException(_faultCause);
        }
    }

    /// <summary>Seals the live WAL once it passes the threshold and compacts it in the background.</summary>
    private void RotateIfNeeded()
    {
        // While a compaction runs the live WAL keeps growing; the next compaction covers it all.
        if (_walLength < _options.CompactionThresholdBytes || !_compaction.IsCompleted)
        {
            return;
        }

        long sealedGeneration = _walGeneration;
        try
        {
            FileStream next = LogFiles.OpenWal(_directory, sealedGeneration + 1);
            _wal.Dispose();
            _wal = next;
        }
        catch (Exception ex)
        {
            Fault(ex);
            return;
        }

        _walGeneration = sealedGeneration + 1;
        _walLength = 0;
        _compaction = Task.Run(() => Compact(sealedGeneration));
    }

    /// <summary>
    /// Builds snapshot n from the previous snapshot and sealed WALs, purely from files, so writers are never
    /// blocked (at the cost of a second in-memory copy of the data while it runs). Old files are deleted only
    /// after the new snapshot is durable.
    /// </summary>
    private void Compact(long upToGeneration)
    {
        long from = _snapshotGeneration;
        try
        {
            LogState state = from == 0
                ? new LogState()
                : LogFiles.TryLoadSnapshot(LogFiles.SnapshotPath(_directory, from))
                    ?? throw new InvalidDataException($"Snapshot {from} in '{_directory}' no longer reads back intact.");
            for (long generation = from + 1; generation <= upToGeneration; generation++)
            {
                string path = LogFiles.WalPath(_directory, generation);
                LogFiles.ReplayWal(path, state, out bool intact);
                if (!intact)
                {
                    throw new InvalidDataException($"Sealed WAL '{path}' is corrupt.");
                }
            }

            LogFiles.WriteSnapshot(_directory, upToGeneration, state);
            _snapshotGeneration = upToGeneration;
            LogFiles.DeleteCoveredFiles(_directory, upToGeneration);
            _logger.LogInformation(
                "Compacted grain state log {Directory} into snapshot {Generation} ({Count} entries)",
                _directory,
                upToGeneration,
                state.Entries.Count);
        }
        catch (Exception ex)
        {
            // Nothing is lost: the WALs stay and the next rotation compacts from the same snapshot again.
            _logger.LogError(ex, "Compacting grain state log {Directory} up to WAL {Generation} failed", _directory, upToGeneration);
        }
    }

    private sealed class PendingRecord(LogRecord record, string etag)
    {
        public LogRecord Record { get; } = record;

        public string ETag { get; } = etag;

        public TaskCompletionSource<string> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
