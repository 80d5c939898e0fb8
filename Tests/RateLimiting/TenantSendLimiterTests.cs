using Dovecote.Api.RateLimiting;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Tenants;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dovecote.Tests.RateLimiting;

[Collection(GrainClusterCollection.Name)]
public sealed class TenantSendLimiterTests(GrainClusterFixture fx)
{
    [Fact]
    public async Task Concurrent_sends_counted_together_never_pass_the_limit_and_refuse_only_what_did_not_fit()
    {
        var tenant = GrainClusterFixture.UniqueTenant("sends");
        using (TenantContext.Enter(tenant))
            await fx.Client.GetGrain<ITenantGrain>(tenant).UpsertAsync("Sends", null, new TenantLimitOverrides(SendsPerMinute: 20));
        var limiter = new TenantSendLimiter(fx.Client, TimeProvider.System, NullLogger<TenantSendLimiter>.Instance);
        int[] sends = [3, 5, 1, 4, 6, 2, 7, 1, 5, 3, 2, 4];

        var refusals = await Task.WhenAll(sends.Select(n => Task.Run(() => limiter.TryAcquireAsync(tenant, n))));

        var admitted = sends.Where((_, i) => refusals[i] is null).Sum();
        Assert.InRange(admitted, 1, 20);
        // All or nothing per call, and nothing refused that would still have fitted in what was left.
        Assert.All(sends.Where((_, i) => refusals[i] is not null), n => Assert.True(n > 20 - admitted, $"a call of {n} was refused with {20 - admitted} left"));
        Assert.All(refusals.OfType<string>(), r => Assert.Contains($"tenant '{tenant}' may send 20 notifications per minute", r));
        Assert.NotNull(await limiter.TryAcquireAsync(tenant, 20 - admitted + 1));
        Assert.Equal(20 - admitted > 0, await limiter.TryAcquireAsync(tenant, Math.Max(1, 20 - admitted)) is null);
    }

    [Fact]
    public async Task Tenants_are_counted_apart()
    {
        var (busy, quiet) = (GrainClusterFixture.UniqueTenant("sends"), GrainClusterFixture.UniqueTenant("sends"));
        foreach (var tenant in new[] { busy, quiet })
            using (TenantContext.Enter(tenant))
                await fx.Client.GetGrain<ITenantGrain>(tenant).UpsertAsync("Sends", null, new TenantLimitOverrides(SendsPerMinute: 5));
        var limiter = new TenantSendLimiter(fx.Client, TimeProvider.System, NullLogger<TenantSendLimiter>.Instance);

        var busyRefusals = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => limiter.TryAcquireAsync(busy, 1))));

        Assert.Equal(5, busyRefusals.Count(r => r is null));
        Assert.Null(await limiter.TryAcquireAsync(quiet, 5));
    }

    [Fact]
    public async Task Sends_checked_together_while_the_tenant_is_suspended_are_all_refused_uncounted_and_a_lifted_suspension_applies_at_once()
    {
        var tenant = GrainClusterFixture.UniqueTenant("sends");
        var owner = fx.Client.GetGrain<ITenantGrain>(tenant);
        using (TenantContext.Enter(tenant))
        {
            await owner.UpsertAsync("Sends", null, new TenantLimitOverrides(SendsPerMinute: 6));
            await owner.SetSuspensionAsync("unpaid invoice");
        }
        var limiter = new TenantSendLimiter(fx.Client, TimeProvider.System, NullLogger<TenantSendLimiter>.Instance);

        var refusals = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => limiter.TryAcquireAsync(tenant, 1))));

        Assert.All(refusals, r => Assert.Equal($"tenant '{tenant}' is suspended by the operator: unpaid invoice", r));
        using (TenantContext.Enter(tenant)) await owner.SetSuspensionAsync(null);
        // The next call reads the lifted suspension, and none of the refused sends used up the minute's six.
        Assert.Null(await limiter.TryAcquireAsync(tenant, 6));
        Assert.NotNull(await limiter.TryAcquireAsync(tenant, 1));
    }
}
