using Dovecote.Api.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;

namespace Dovecote.Tests.Api;

/// <summary>Which grain-call failures the Api retries (the cluster in motion), and which it never does (the request's own fault).</summary>
public sealed class ClusterCallsTests
{
    [Fact]
    public async Task A_call_that_meets_a_failing_over_silo_is_retried_until_it_succeeds()
    {
        var calls = 0;
        var result = await ClusterCalls.RetryAsync(() =>
        {
            calls++;
            return calls switch
            {
                1 => throw new SiloUnavailableException("the silo is gone"),
                2 => throw new InconsistentStateException("a second activation wrote first", "e1", "e2"),
                _ => Task.FromResult("accepted"),
            };
        }, NullLogger.Instance, TestContext.Current.CancellationToken);

        Assert.Equal("accepted", result);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task A_failure_of_the_request_itself_is_not_retried()
    {
        var calls = 0;
        await Assert.ThrowsAsync<ArgumentException>(() => ClusterCalls.RetryAsync<string>(() =>
        {
            calls++;
            throw new ArgumentException("bad channel settings");
        }, NullLogger.Instance, TestContext.Current.CancellationToken));
        Assert.Equal(1, calls);
    }

    [Fact]
    public void Cluster_failures_are_transient_and_request_failures_are_not()
    {
        Assert.True(ClusterCalls.IsTransient(new TimeoutException()));
        Assert.True(ClusterCalls.IsTransient(new GatewayTooBusyException()));
        Assert.False(ClusterCalls.IsTransient(new InvalidOperationException()));
        Assert.False(ClusterCalls.IsTransient(new Dovecote.Grains.Interfaces.Tenants.NotFoundException("no tenant")));
    }
}
