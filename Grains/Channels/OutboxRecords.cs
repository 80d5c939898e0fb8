using Orleans.Storage;

namespace Dovecote.Grains.Channels;

/// <summary>
/// A channel's pending messages, one storage record each ("outbox.{sequence}") under the channel's own grain id, in the
/// silo's default grain storage: an accept writes one message, never the outbox, and every record fits one Azure Table
/// entity (<see cref="Delivery.Outbox.MaxMessageBytes"/>). Writes are compare-and-set on each record's ETag; an insert
/// expects none, so a second activation that already wrote a sequence makes this one fail with
/// <see cref="InconsistentStateException"/> instead of overwriting what it never read.
/// Accepts may write their records at once, so they share flushes; then one that fails can leave a gap below records
/// that were acknowledged. A small window record ("outbox-window", <see cref="OutboxWindow"/>) says how far such gaps
/// may reach, and is written before any overlapping insert goes past it: activation reads every sequence below it.
/// </summary>
internal sealed class OutboxRecords(IGrainStorage storage, GrainId grainId)
{
    public const string StatePrefix = "outbox.";
    /// <summary>Not under <see cref="StatePrefix"/>: that names sequences only.</summary>
    public const string WindowStateName = "outbox-window";
    /// <summary>How far one window write lets overlapping accepts run: one small write per this many accepts; activation reads at most this many missing records past the last pending one.</summary>
    public const int WindowSize = 128;

    private readonly Dictionary<long, GrainState<OutboxMessage>> _records = [];
    // One operation at a time per record: an interleaved reconfigure must not race the drain's rewrite on one ETag.
    private readonly Dictionary<long, Task> _tails = [];

    private readonly Dictionary<long, Task> _accepting = [];
    private GrainState<OutboxWindow> _window = new(new OutboxWindow());
    private Task? _widening;

    public static string StateName(long sequence) => $"{StatePrefix}{sequence}";

    /// <summary>Below this sequence records may have gaps, as stored: read once on activation, before <see cref="LoadAsync"/>.</summary>
    public long WindowEnd => _window.State?.End ?? 0;

    public async Task<long> ReadWindowAsync()
    {
        var window = new GrainState<OutboxWindow>();
        await storage.ReadStateAsync(WindowStateName, grainId, window);
        window.State ??= new OutboxWindow();
        _window = window;
        return window.State.End;
    }

    /// <summary>
    /// Inserts an accepted message's record, overlapping the inserts of other accepts still in flight (one flush for
    /// all of them). An insert that starts while another is in flight stays inside the stored window, widening it first.
    /// <paramref name="durable"/> runs in the same turn the record stops counting as <see cref="IsAccepting"/>.
    /// </summary>
    public async Task InsertAcceptedAsync(OutboxMessage message, Action<OutboxMessage> durable)
    {
        var sequence = message.Sequence;
        var overlapping = _accepting.Count > 0;
        var inserted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _accepting[sequence] = inserted.Task;
        try
        {
            // Alone, it follows the records before it without a gap: activation finds it by probing on.
            if (overlapping || sequence < WindowEnd) await WithinWindowAsync(sequence);
            await InsertAsync(message);
            durable(message);
            inserted.SetResult();
        }
        catch (Exception e)
        {
            inserted.SetException(e);
            _ = inserted.Task.Exception; // observed here; a duplicate waiting on it sees it too
            throw;
        }
        finally
        {
            _accepting.Remove(sequence);
        }
    }

    /// <summary>Whether this accepted message's record is still being written: it is not acknowledged, so not sent yet.</summary>
    public bool IsAccepting(long sequence) => _accepting.ContainsKey(sequence);

    /// <summary>Completes when the record of an accept still in flight is durable (at once if none is); fails if its write failed.</summary>
    public Task AcceptedAsync(long sequence) => _accepting.GetValueOrDefault(sequence) ?? Task.CompletedTask;

    /// <summary>Deletes the window record; only once no accept is in flight (a deleted channel).</summary>
    public async Task ClearWindowAsync()
    {
        try
        {
            if (_widening is { } widening) await widening;
        }
        catch
        {
            // Its outcome no longer matters: the window goes.
        }
        if (_window.ETag is null) return;
        await storage.ClearStateAsync(WindowStateName, grainId, _window);
        _window = new GrainState<OutboxWindow>(new OutboxWindow());
    }

    private async Task WithinWindowAsync(long sequence)
    {
        while (sequence >= WindowEnd) await WidenAsync(sequence);
        // Widened ahead of need, so a steady stream of accepts seldom waits for it.
        if (sequence >= WindowEnd - WindowSize / 2) _ = WidenAheadAsync(sequence);
    }

    private async Task WidenAheadAsync(long sequence)
    {
        try
        {
            await WidenAsync(sequence);
        }
        catch
        {
            // The window stays as it was known: the next accept past it widens it again, and fails if it cannot.
        }
    }

    /// <summary>One window write at a time; a failed one leaves the stored window as it was known, so the next accept past it tries again.</summary>
    private Task WidenAsync(long sequence) =>
        _widening is { IsCompleted: false } pending ? pending : _widening = WriteWindowAsync(Math.Max(WindowEnd, sequence) + WindowSize);

    private async Task WriteWindowAsync(long end)
    {
        var widened = new GrainState<OutboxWindow>(new OutboxWindow { End = end }) { ETag = _window.ETag, RecordExists = _window.RecordExists };
        await storage.WriteStateAsync(WindowStateName, grainId, widened);
        _window = widened;
    }

    /// <summary>
    /// The pending records from <paramref name="head"/> on: every one up to <paramref name="next"/> (skipping missing
    /// ones), then on while records exist (accepts since the channel state was last written). In sequence order.
    /// </summary>
    public async Task<List<OutboxMessage>> LoadAsync(long head, long next)
    {
        var found = new List<OutboxMessage>();
        for (var sequence = head; ; sequence++)
        {
            if (await ReadAsync(sequence) is { } message) found.Add(message);
            else if (sequence >= next) return found;
        }
    }

    /// <summary>The stored record, or null; a record read is one this activation may rewrite or clear.</summary>
    public async Task<OutboxMessage?> ReadAsync(long sequence)
    {
        var record = new GrainState<OutboxMessage>();
        await storage.ReadStateAsync(StateName(sequence), grainId, record);
        if (!record.RecordExists) return null;
        record.State!.Sequence = sequence;
        _records[sequence] = record;
        return record.State;
    }

    /// <summary>Writes a new record; fails with <see cref="InconsistentStateException"/> if one already exists.</summary>
    public Task InsertAsync(OutboxMessage message) => Serialized(message.Sequence, async () =>
    {
        var record = new GrainState<OutboxMessage>(message) { ETag = null };
        await storage.WriteStateAsync(StateName(message.Sequence), grainId, record);
        _records[message.Sequence] = record;
    });

    /// <summary>Rewrites a record this activation read or wrote (attempts, chunks sent, next attempt ...).</summary>
    public Task WriteAsync(OutboxMessage message) => Serialized(message.Sequence, () =>
    {
        var record = Known(message.Sequence);
        record.State = message;
        return storage.WriteStateAsync(StateName(message.Sequence), grainId, record);
    });

    /// <summary>Deletes a record; only once a channel state that no longer needs it was written.</summary>
    public Task ClearAsync(long sequence) => Serialized(sequence, async () =>
    {
        if (!_records.ContainsKey(sequence) && await ReadAsync(sequence) is null) return;
        await storage.ClearStateAsync(StateName(sequence), grainId, Known(sequence));
        _records.Remove(sequence);
    });

    private GrainState<OutboxMessage> Known(long sequence) => _records.TryGetValue(sequence, out var record)
        ? record
        : throw new InvalidOperationException($"outbox record {sequence} of {grainId} was neither read nor written by this activation");

    private async Task Serialized(long sequence, Func<Task> operation)
    {
        // Grain calls run one at a time between awaits, so the dictionary needs no lock.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var previous = _tails.GetValueOrDefault(sequence);
        _tails[sequence] = done.Task;
        try
        {
            if (previous is not null) await previous;
            await operation();
        }
        finally
        {
            done.SetResult();
            if (_tails.GetValueOrDefault(sequence) == done.Task) _tails.Remove(sequence);
        }
    }
}
