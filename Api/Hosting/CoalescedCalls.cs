using System.Collections.Concurrent;

namespace Dovecote.Api.Hosting;

/// <summary>
/// Group commit for grain calls: items for one key submitted while a call for that key is on its way go together in the
/// next call, so a busy key costs one grain call per batch instead of one per item, and each caller still waits for its
/// own item's result. At most one call per key is on its way from this pod at a time.
/// </summary>
public sealed class CoalescedCalls<TItem, TResult>(Func<string, IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> call, int maxBatch)
{
    private readonly Func<string, IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> _call = call;
    private readonly int _maxBatch = maxBatch > 0 ? maxBatch : throw new ArgumentOutOfRangeException(nameof(maxBatch));

    /// <summary>Only keys with items waiting or on their way: an idle key's queue removes itself.</summary>
    private readonly ConcurrentDictionary<string, KeyQueue> _queues = new(StringComparer.Ordinal);

    /// <summary>The result <paramref name="call"/> gave for this item; its exception if the batch's call failed.</summary>
    public Task<TResult> SubmitAsync(string key, TItem item)
    {
        while (true)
        {
            var queue = _queues.GetOrAdd(key, static (key, owner) => new KeyQueue(owner, key), this);
            if (queue.TryAdd(item) is { } result) return result;
            _queues.TryRemove(KeyValuePair.Create(key, queue)); // it closed after draining: take a fresh one
        }
    }

    private sealed class KeyQueue(CoalescedCalls<TItem, TResult> owner, string key)
    {
        private readonly Lock _gate = new();
        private List<(TItem Item, TaskCompletionSource<TResult> Result)> _waiting = [];
        private bool _calling, _closed;

        /// <summary>Null when this queue has closed (drained and removed).</summary>
        public Task<TResult>? TryAdd(TItem item)
        {
            var result = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            bool start;
            lock (_gate)
            {
                if (_closed) return null;
                _waiting.Add((item, result));
                start = !_calling;
                _calling = true;
            }
            if (start)
            {
                // The calls outlive the request that started them: they take none of its context (HttpContext, trace).
                using (ExecutionContext.SuppressFlow()) _ = Task.Run(CallWaitingAsync);
            }
            return result.Task;
        }

        private async Task CallWaitingAsync()
        {
            while (true)
            {
                List<(TItem Item, TaskCompletionSource<TResult> Result)> batch;
                lock (_gate)
                {
                    if (_waiting.Count == 0)
                    {
                        (_calling, _closed) = (false, true);
                        owner._queues.TryRemove(KeyValuePair.Create(key, this));
                        return;
                    }
                    var take = Math.Min(_waiting.Count, owner._maxBatch);
                    batch = _waiting[..take];
                    _waiting = _waiting[take..];
                }
                try
                {
                    var results = await owner._call(key, batch.ConvertAll(w => w.Item));
                    for (var i = 0; i < batch.Count; i++) batch[i].Result.SetResult(results[i]);
                }
                catch (Exception e)
                {
                    foreach (var waiting in batch) waiting.Result.TrySetException(e);
                }
            }
        }
    }
}
