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
    public async Task Guessing_api_keys_is_cut_off_with_429_while_a_valid_key_keeps_working()
    {
        using var http = new HttpClient();
        var limit = ClusterRateLimiter.FailedAuthentication.Limit;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= limit; i++) statuses.Add(await PostAsync(http, $"guess-{i}"));
        using var throttled = await SendAsync(http, "one-more-guess");

        Assert.All(statuses.Take(limit), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[limit]);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.True(throttled.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(http, ApiFixture.ConfiguredKey));
    }

    [Fact]
    public async Task Guessing_the_admin_token_is_cut_off_with_429()
    {
        using var admin = api.Admin("not-the-admin-token");
        var limit = ClusterRateLimiter.FailedAdminToken.Limit;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= limit; i++) statuses.Add((await admin.GetAsync("/admin/tenants/default", Ct)).StatusCode);

        Assert.All(statuses.Take(limit), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[limit]);
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

    private async Task<HttpStatusCode> PostAsync(HttpClient http, string key)
    {
        using var response = await SendAsync(http, key);
        return response.StatusCode;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpClient http, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        return await http.SendAsync(request, Ct);
    }
}
