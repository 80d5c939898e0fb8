namespace Dovecote.Grains.Budgets;

/// <summary>A count of events in a sliding window, kept as 60 slices of it: the window slides a slice at a time. Thread-safe.</summary>
public sealed class InvalidAnswerWindow(TimeSpan window)
{
    private const int Slices = 60;

    private readonly Lock _lock = new();
    private readonly long _sliceTicks = Math.Max(1, window.Ticks / Slices);
    private readonly long[] _counts = new long[Slices];
    private readonly long[] _sliceOf = new long[Slices];

    public TimeSpan Length => window;

    public void Add(DateTimeOffset now, long count)
    {
        var slice = now.UtcTicks / _sliceTicks;
        var at = (int)(slice % Slices);
        lock (_lock)
        {
            if (_sliceOf[at] != slice) (_sliceOf[at], _counts[at]) = (slice, 0);
            _counts[at] += count;
        }
    }

    public long Count(DateTimeOffset now)
    {
        var current = now.UtcTicks / _sliceTicks;
        long total = 0;
        lock (_lock)
        {
            for (var i = 0; i < Slices; i++)
                if (_sliceOf[i] > current - Slices && _sliceOf[i] <= current) total += _counts[i];
        }
        return total;
    }
}
