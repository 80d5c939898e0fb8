using System.Net;
using Dovecote.Api.RateLimiting;
using Dovecote.Api.Security;
using Dovecote.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dovecote.Tests.Security;

/// <summary>Two Api pods' gates over one cluster: failures count cluster-wide, a kept "allowed" lasts one second at most.</summary>
[Collection(GrainClusterCollection.Name)]
public sealed class FailedAuthenticationGateTests(GrainClusterFixture fx)
{
    [Fact]
    public async Task An_address_refused_on_one_pod_is_refused_on_another_within_a_second_and_at_once_on_the_pod_that_counted()
    {
        var clock = new ManualClock();
        var limiter = new ClusterRateLimiter(fx.Client, NullLogger<ClusterRateLimiter>.Instance);
        using var podA = new FailedAuthenticationGate(limiter, clock);
        using var podB = new FailedAuthenticationGate(limiter, clock);
        var attacker = Request($"203.0.113.{Random.Shared.Next(1, 250)}");

        Assert.True((await podA.PeekAsync(attacker)).Allowed); // kept on pod A
        var (limit, _) = ClusterRateLimiter.FailedAuthentication;
        for (var i = 0; i < limit; i++) Assert.True((await podB.FailedAsync(attacker)).Allowed);
        Assert.False((await podB.FailedAsync(attacker)).Allowed);
        Assert.False((await podB.PeekAsync(attacker)).Allowed); // the pod that counted knows at once

        Assert.True((await podA.PeekAsync(attacker)).Allowed, "pod A keeps its answer for up to a second");
        clock.Advance(FailedAuthenticationGate.AllowedFor);
        Assert.False((await podA.PeekAsync(attacker)).Allowed);
        Assert.True((await podA.PeekAsync(Request("198.51.100.7"))).Allowed); // another address has its own budget
    }

    private static DefaultHttpContext Request(string address) => new() { Connection = { RemoteIpAddress = IPAddress.Parse(address) } };

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
