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
    /// after the one before, none later than <paramref name="latest"/>.
    /// </summary>
    public List<DateTimeOffset> Book(long leaseId, int count, TimeSpan spacing, TimeSpan slotLength, DateTimeOffset now, DateTimeOffset latest)
    {
        Forget(now - slotLength);
        var slots = new List<DateTimeOffset>(count);
        var from = now;
        while (slots.Count < count)
        {
            var at = NextFree(from, slotLength);
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
        foreach (var (booked, _) in _booked)
        {
            if (booked <= at - slotLength) continue;
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

    private void Insert(DateTimeOffset at, long leaseId)
    {
        var index = _booked.FindIndex(b => b.At > at);
        _booked.Insert(index < 0 ? _booked.Count : index, (at, leaseId));
    }
}
