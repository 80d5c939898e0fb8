using Dovecote.Grains.Interfaces.RateLimiting;
using Dovecote.Tests.Tenants;

namespace Dovecote.Tests.RateLimiting;

[Collection(GrainClusterCollection.Name)]
public sealed class RateLimitGrainTests(GrainClusterFixture fx)
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private IRateLimitGrain Limit(string key) => fx.Client.GetGrain<IRateLimitGrain>(key);

    [Fact]
    public async Task Allows_the_limit_then_refuses_until_the_window_ends()
    {
        var key = $"login-ip/{GrainClusterFixture.UniqueTenant("203.0.113.9")}";

        var decisions = new List<RateLimitDecision>();
        for (var i = 0; i < 4; i++) decisions.Add(await Limit(key).TryAcquireAsync(3, Minute));

        Assert.Equal([true, true, true, false], decisions.Select(d => d.Allowed));
        Assert.Equal([2, 1, 0, 0], decisions.Select(d => d.Remaining));
        Assert.All(decisions.Take(3), d => Assert.Equal(TimeSpan.Zero, d.RetryAfter));
        Assert.InRange(decisions[3].RetryAfter, TimeSpan.FromTicks(1), Minute);
    }

    [Fact]
    public async Task Keys_count_independently()
    {
        var first = $"register-ip/{GrainClusterFixture.UniqueTenant("a")}";
        var second = $"register-ip/{GrainClusterFixture.UniqueTenant("b")}";

        Assert.True((await Limit(first).TryAcquireAsync(1, Minute)).Allowed);
        Assert.False((await Limit(first).TryAcquireAsync(1, Minute)).Allowed);

        Assert.True((await Limit(second).TryAcquireAsync(1, Minute)).Allowed);
    }

    [Fact]
    public async Task A_released_hit_can_be_taken_again_but_release_never_goes_below_zero()
    {
        var key = $"signin-fail-ip/{GrainClusterFixture.UniqueTenant("release")}";
        Assert.True((await Limit(key).TryAcquireAsync(1, Minute)).Allowed);
        Assert.False((await Limit(key).TryAcquireAsync(1, Minute)).Allowed);

        await Limit(key).ReleaseAsync(Minute);
        await Limit(key).ReleaseAsync(Minute); // one too many: the count stays at zero rather than granting an extra hit

        Assert.True((await Limit(key).TryAcquireAsync(1, Minute)).Allowed);
        Assert.False((await Limit(key).TryAcquireAsync(1, Minute)).Allowed);
    }

    [Theory]
    [InlineData(0, 60)]
    [InlineData(3, 0)]
    [InlineData(3, -1)]
    [InlineData(3, 90_000)]
    public async Task Nonsense_limits_are_refused(int limit, int windowSeconds)
    {
        var key = $"x/{GrainClusterFixture.UniqueTenant("bad")}";

        await Assert.ThrowsAsync<ArgumentException>(() => Limit(key).TryAcquireAsync(limit, TimeSpan.FromSeconds(windowSeconds)));
    }
}
