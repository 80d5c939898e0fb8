using Dovecote.Grains.Budgets;

namespace Dovecote.Tests.Budgets;

public sealed class InvalidAnswerWindowTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Answers_count_for_the_window_and_then_slide_out_slice_by_slice()
    {
        var window = new InvalidAnswerWindow(TimeSpan.FromMinutes(10)); // 60 slices of 10 s
        window.Add(T0, 100);
        window.Add(T0.AddMinutes(5), 50);

        Assert.Equal(150, window.Count(T0.AddMinutes(9)));
        Assert.Equal(50, window.Count(T0.AddMinutes(10).AddSeconds(10))); // the first slice left
        Assert.Equal(0, window.Count(T0.AddMinutes(15).AddSeconds(10)));
    }

    [Fact]
    public void A_slice_reused_a_window_later_starts_from_zero()
    {
        var window = new InvalidAnswerWindow(TimeSpan.FromMinutes(10));
        window.Add(T0, 7);
        window.Add(T0.AddMinutes(10), 1); // same ring position, next lap

        Assert.Equal(1, window.Count(T0.AddMinutes(10)));
    }
}
