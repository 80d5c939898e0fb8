namespace Dovecote.Grains.Budgets;

/// <summary>
/// The send times a budget has leased, at least one slot length apart: whoever leases next gets the earliest free times.
/// Plain and deterministic (the clock is an argument). Holds at most the lease horizon's worth of slots.
/// </summary>
public sealed class SlotCalendar
{
    private readonly List<(DateTimeOffset At, long LeaseId)> _booked = []; // by time

    public int Count => _booked.Count;

    /// <summary>
    /// Books up to <paramref name="count"/> slots for <paramref name="leaseId"/>, each at least <paramref name="spacing"/>
    /// after the one before: the first free one however far ahead (a saturated budget is a queue, not a retry loop), and
    /// the rest no later than <paramref name="horizon"/> after it. Never empty.
    /// </summary>
    public List<DateTimeOffset> Book(long leaseId, int count, TimeSpan spacing, TimeSpan slotLength, DateTimeOffset now, TimeSpan horizon)
    {
        Forget(now - slotLength);
        var slots = new List<DateTimeOffset>(count);
        var from = now;
        DateTimeOffset? latest = null;
        while (slots.Count < count)
        {
            var at = NextFree(from, slotLength);
            latest ??= at + horizon;
            if (at > latest) break;
            Insert(at, leaseId);
            slots.Add(at);
            from = at + (spacing > slotLength ? spacing : slotLength);
        }
        return slots;
    }

    /// <summary>The earliest time at or after <paramref name="from"/> at least a slot length from every booked slot.</summary>
    public DateTimeOffset NextFree(DateTimeOffset from, TimeSpan slotLength)
    {
        var at = from;
        for (var i = FirstAfter(at - slotLength); i < _booked.Count; i++)
        {
            var booked = _booked[i].At;
            if (booked >= at + slotLength) break;
            at = booked + slotLength;
        }
        return at;
    }

    /// <summary>Frees the slots of a lease still ahead of <paramref name="now"/>.</summary>
    public void Release(long leaseId, DateTimeOffset now) => _booked.RemoveAll(b => b.LeaseId == leaseId && b.At >= now);

    /// <summary>Frees every slot before <paramref name="until"/>: nobody sends in a pause.</summary>
    public void ClearUntil(DateTimeOffset until) => _booked.RemoveAll(b => b.At < until);

    private void Forget(DateTimeOffset before)
    {
        var stale = 0;
        while (stale < _booked.Count && _booked[stale].At < before) stale++;
        _booked.RemoveRange(0, stale);
    }

    private void Insert(DateTimeOffset at, long leaseId) => _booked.Insert(FirstAfter(at), (at, leaseId));

    /// <summary>The index of the first slot booked after <paramref name="time"/> (binary search: the calendar is in time order).</summary>
    private int FirstAfter(DateTimeOffset time)
    {
        var (low, high) = (0, _booked.Count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_booked[middle].At <= time) low = middle + 1;
            else high = middle;
        }
        return low;
    }
}
