using Dovecote.Grains.Budgets;

namespace Dovecote.Tests.Budgets;

public sealed class SlotCalendarTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Slot = TimeSpan.FromSeconds(1 / 25.0);

    [Fact]
    public void Many_leases_never_put_more_than_the_rate_in_any_second()
    {
        var calendar = new SlotCalendar();
        var granted = new List<DateTimeOffset>();
        // 200 channels at 1 s apart each, asking 3 slots, the clock moving 10 ms between leases.
        for (var lease = 1; lease <= 200; lease++)
            granted.AddRange(calendar.Book(lease, 3, TimeSpan.FromSeconds(1), Slot, T0 + TimeSpan.FromMilliseconds(10 * lease), TimeSpan.FromSeconds(60)));

        granted.Sort();
        Assert.Equal(600, granted.Count);
        for (var i = 0; i + 25 < granted.Count; i++)
            Assert.True(granted[i + 25] - granted[i] >= TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(25),
                $"26 slots within a second from {granted[i]:HH:mm:ss.fff}");
    }

    [Fact]
    public void A_lease_keeps_its_own_spacing_and_stops_at_the_horizon()
    {
        var calendar = new SlotCalendar();
        var slots = calendar.Book(1, 8, TimeSpan.FromSeconds(1), Slot, T0, TimeSpan.FromSeconds(3.5));

        Assert.Equal([T0, T0.AddSeconds(1), T0.AddSeconds(2), T0.AddSeconds(3)], slots);
    }

    [Fact]
    public void A_busy_budget_queues_the_next_lease_behind_the_booked_slots_instead_of_refusing_it()
    {
        var calendar = new SlotCalendar();
        Assert.Equal(26, calendar.Book(1, 100, TimeSpan.Zero, Slot, T0, TimeSpan.FromSeconds(1)).Count); // 0 ms to 1,000 ms inclusive

        var queued = calendar.Book(2, 3, TimeSpan.FromSeconds(1), Slot, T0, TimeSpan.FromSeconds(1.5));
        Assert.Equal([T0 + 26 * Slot, T0 + 26 * Slot + TimeSpan.FromSeconds(1)], queued); // the rest reach 1.5 s past the first
        Assert.Equal(T0 + 27 * Slot, calendar.NextFree(T0, Slot));
    }

    [Fact]
    public void Released_and_paused_slots_go_to_the_next_lease()
    {
        var calendar = new SlotCalendar();
        var first = calendar.Book(1, 5, TimeSpan.Zero, Slot, T0, TimeSpan.FromSeconds(5));
        calendar.Release(1, T0 + Slot / 2); // the first slot is past: only the four ahead come free

        var second = calendar.Book(2, 4, TimeSpan.Zero, Slot, T0 + Slot / 2, TimeSpan.FromSeconds(5));
        Assert.Equal(first.Skip(1), second); // a slot length after the one still booked

        calendar.ClearUntil(T0.AddSeconds(10));
        Assert.Equal(0, calendar.Count);
    }
}
