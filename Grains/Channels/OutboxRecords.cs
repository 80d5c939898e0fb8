using Orleans.Storage;

namespace Dovecote.Grains.Channels;

/// <summary>
/// A channel's pending messages, one storage record each ("outbox.{sequence}") under the channel's own grain id, in the
/// silo's default grain storage: an accept writes one message, never the outbox, and every record fits one Azure Table
/// entity (<see cref="Delivery.Outbox.MaxMessageBytes"/>). Writes are compare-and-set on each record's ETag; an insert
/// expects none, so a second activation that already wrote a sequence makes this one fail with
/// <see cref="InconsistentStateException"/> instead of overwriting what it never read.
/// </summary>
internal sealed class OutboxRecords(IGrainStorage storage, GrainId grainId)
{
    public const string StatePrefix = "outbox.";

    private readonly Dictionary<long, GrainState<OutboxMessage>> _records = [];
    // One operation at a time per record: an interleaved reconfigure must not race the drain's rewrite on one ETag.
    private readonly Dictionary<long, Task> _tails = [];

    public static string StateName(long sequence) => $"{StatePrefix}{sequence}";

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
