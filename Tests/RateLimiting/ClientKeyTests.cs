using System.Net;
using Dovecote.Api.RateLimiting;

namespace Dovecote.Tests.RateLimiting;

/// <summary>Whose budget an address spends: IPv4 as it is, IPv6 by its /64, IPv4-mapped IPv6 as the IPv4 address.</summary>
public sealed class ClientKeyTests
{
    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    [InlineData("fe80::1%3", "fe80::/64")]
    [InlineData("::1", "::/64")]
    public void An_address_spends_the_budget_of_its_key(string address, string key) =>
        Assert.Equal(key, ClusterRateLimiter.ClientKey(IPAddress.Parse(address)));

    [Fact]
    public void Neighbouring_64s_and_ipv4_addresses_get_budgets_of_their_own()
    {
        Assert.NotEqual(ClusterRateLimiter.ClientKey(IPAddress.Parse("2001:db8:1:2::1")), ClusterRateLimiter.ClientKey(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.NotEqual(ClusterRateLimiter.ClientKey(IPAddress.Parse("203.0.113.9")), ClusterRateLimiter.ClientKey(IPAddress.Parse("203.0.113.10")));
        Assert.Equal("unknown", ClusterRateLimiter.ClientKey((IPAddress?)null));
    }
}
