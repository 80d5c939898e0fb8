using System.Net;
using Dovecote.Grains.Security;

namespace Dovecote.Tests.Security;

public sealed class OutboundAddressGuardTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")] // cloud metadata
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:127.0.0.1")] // IPv4-mapped loopback
    [InlineData("64:ff9b::a00:1")] // NAT64 of 10.0.0.1
    public void Private_and_reserved_addresses_are_refused(string address) =>
        Assert.False(new OutboundAddressGuard(allowPrivateTargets: false).IsAllowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700::1111")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.True(new OutboundAddressGuard(allowPrivateTargets: false).IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void The_override_allows_private_targets() =>
        Assert.True(new OutboundAddressGuard(allowPrivateTargets: true).IsAllowed(IPAddress.Loopback));

    [Theory]
    [InlineData("http://example.com/hook", "must use https")]
    [InlineData("https://localhost/hook", "points at a loopback address")]
    [InlineData("https://127.0.0.1:8080/hook", "points at a loopback address")]
    [InlineData("https://[::1]/hook", "points at a loopback address")]
    [InlineData("https://169.254.169.254/latest/meta-data", "points at a private or reserved address")]
    [InlineData("https://example.com/hook", null)]
    public void Urls_are_checked_before_any_lookup(string url, string? problem) =>
        Assert.Equal(problem, new OutboundAddressGuard(allowPrivateTargets: false).CheckUrl(url));

    [Fact]
    public async Task A_connection_to_a_loopback_listener_is_refused_at_connect_time()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var guard = new OutboundAddressGuard(allowPrivateTargets: false);
        using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = guard.ConnectAsync });

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"http://localhost:{port}/", TestContext.Current.CancellationToken));

        Assert.IsType<OutboundTargetRefusedException>(error.InnerException);
    }
}
