namespace Dovecote.Grains.Channels;

/// <summary>
/// Lets the accepts of one channel run at once (EnqueueAsync interleaves, so their record writes share flushes) while
/// keeping them apart from the calls that change the whole outbox (configure, delete, redrive): such a call waits for
/// the accepts in flight, and an accept arriving meanwhile waits for it. Grain turns never overlap, so no lock.
/// </summary>
internal sealed class AcceptGate
{
    private int _accepts;
    private TaskCompletionSource? _idle;
    private TaskCompletionSource? _exclusive;

    public async ValueTask EnterAcceptAsync()
    {
        while (_exclusive is { } exclusive) await exclusive.Task;
        _accepts++;
    }

    public void ExitAccept()
    {
        if (--_accepts > 0 || _idle is not { } idle) return;
        _idle = null;
        idle.SetResult();
    }

    /// <summary>Waits until no accept is in flight and holds new ones back until the result is disposed.</summary>
    public async Task<IDisposable> ExclusiveAsync()
    {
        while (_exclusive is { } other) await other.Task;
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _exclusive = mine;
        while (_accepts > 0)
        {
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await _idle.Task;
        }
        return new Release(this, mine);
    }

    private sealed class Release(AcceptGate gate, TaskCompletionSource exclusive) : IDisposable
    {
        public void Dispose()
        {
            if (gate._exclusive != exclusive) return;
            gate._exclusive = null;
            exclusive.SetResult();
        }
    }
}
