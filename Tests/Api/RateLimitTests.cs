using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dovecote.Api;
using Dovecote.Api.RateLimiting;
using Dovecote.Api.Security;

namespace Dovecote.Tests.Api;

/// <summary>Cluster-wide limits on failed credentials. Its own Api instance, so these counters touch no other test.</summary>
public sealed class RateLimitTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Past_the_failure_budget_even_the_right_api_key_gets_429_from_that_address_only()
    {
        using var http = new HttpClient();
        var limit = ClusterRateLimiter.FailedAuthentication.Limit;
        const string guesser = "198.51.100.31"; // via X-Forwarded-For from loopback, a trusted proxy by default

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= limit; i++) statuses.Add(await PostAsync(http, $"guess-{i}", guesser));
        using var rightKey = await SendAsync(http, ApiFixture.ConfiguredKey, guesser);

        Assert.All(statuses.Take(limit), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[limit]);
        Assert.Equal(HttpStatusCode.TooManyRequests, rightKey.StatusCode);
        Assert.True(rightKey.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(http, ApiFixture.ConfiguredKey, "198.51.100.32"));
    }

    [Fact]
    public async Task An_ipv6_guesser_cannot_take_a_fresh_budget_from_each_address_of_its_64()
    {
        using var http = new HttpClient();
        var limit = ClusterRateLimiter.FailedAuthentication.Limit;

        // Each guess from another address of 2001:db8:77:1::/64.
        for (var i = 0; i < limit; i++) Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, $"guess-{i}", $"2001:db8:77:1::{i + 1:x}"));

        Assert.Equal(HttpStatusCode.TooManyRequests, await PostAsync(http, ApiFixture.ConfiguredKey, "2001:db8:77:1:ffff:ffff:ffff:ffff"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(http, ApiFixture.ConfiguredKey, "2001:db8:77:2::1"));
    }

    [Fact]
    public async Task Past_the_failure_budget_even_the_right_admin_token_gets_429_from_that_address_only()
    {
        const string guesser = "198.51.100.41";
        var limit = ClusterRateLimiter.FailedAdminToken.Limit;
        using var wrong = api.Admin("not-the-admin-token-but-just-as-long-as-one");
        wrong.DefaultRequestHeaders.Add("X-Forwarded-For", guesser);
        using var right = api.Admin();
        right.DefaultRequestHeaders.Add("X-Forwarded-For", guesser);
        using var elsewhere = api.Admin();
        elsewhere.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.42");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= limit; i++) statuses.Add((await wrong.GetAsync("/admin/tenants/default", Ct)).StatusCode);
        using var rightToken = await right.GetAsync("/admin/tenants/default", Ct);

        Assert.All(statuses.Take(limit), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[limit]);
        Assert.Equal(HttpStatusCode.TooManyRequests, rightToken.StatusCode);
        Assert.True(rightToken.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, (await elsewhere.GetAsync("/admin/tenants/default", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("dvc_malformedidx_short")] // secret too short
    [InlineData("dvc_MALFORMEDIDX_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // id not lowercase base32
    [InlineData("dvc_malformed1xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // '1' is not in the id alphabet
    [InlineData("dvc_malformedidxx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // id one too long
    [InlineData("dvc_malformedidx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!")] // secret not base64url
    public async Task A_malformed_dvc_key_is_refused_without_activating_a_key_grain(string key)
    {
        using var http = new HttpClient();
        var keyId = key.Split('_')[1];

        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, key, "198.51.100.51"));

        Assert.False(await IsKeyGrainActiveAsync(keyId), $"a key grain was activated for {keyId}");
    }

    [Fact]
    public async Task A_well_formed_unknown_key_does_reach_its_key_grain()
    {
        // The control for the test above: the same observable does see an activation when the shape is right.
        using var http = new HttpClient();
        const string keyId = "wellformedid";

        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, $"dvc_{keyId}_{new string('A', 43)}", "198.51.100.52"));

        Assert.True(await IsKeyGrainActiveAsync(keyId));
    }

    [Fact]
    public async Task Past_the_failure_budget_a_well_formed_key_gets_429_without_a_grain_call()
    {
        using var http = new HttpClient();
        const string flooder = "198.51.100.53";
        const string keyId = "floodedkeyid";
        for (var i = 0; i < ClusterRateLimiter.FailedAuthentication.Limit; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, $"guess-{i}", flooder));

        Assert.Equal(HttpStatusCode.TooManyRequests, await PostAsync(http, $"dvc_{keyId}_{new string('A', 43)}", flooder));

        Assert.False(await IsKeyGrainActiveAsync(keyId));
    }

    private async Task<bool> IsKeyGrainActiveAsync(string keyId)
    {
        var statistics = await api.Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return statistics.Any(s => s.GrainId.ToString() == $"apikey/{keyId}");
    }

    [Theory]
    [InlineData("DOVECOTE_SILO_PORT", "99999")]
    [InlineData("DOVECOTE_SECRETS_KEY", "too-short")]
    [InlineData("DOVECOTE_GATEWAYS", "not-an-endpoint")]
    public void A_bad_setting_stops_start_up_naming_the_variable(string variable, string value)
    {
        var error = Assert.ThrowsAny<Exception>(() => DovecoteApi.Create([$"--{variable}={value}", "--DOVECOTE_DATA_DIR=/nonexistent/never-created"]));

        Assert.Contains(variable, error.Message);
    }

    private async Task<HttpStatusCode> PostAsync(HttpClient http, string key, string forwardedFor)
    {
        using var response = await SendAsync(http, key, forwardedFor);
        return response.StatusCode;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpClient http, string key, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await http.SendAsync(request, Ct);
    }
}
