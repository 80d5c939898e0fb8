using System.Text.Json;
using Dovecote.Tests.Conformance;

namespace Dovecote.Tests.OAuth;

/// <summary>
/// The TypeScript MCP SDK's auth() (Tests/node/oauth-client.mjs) against the real OAuth server: DCR of a public client,
/// PKCE, the consent form posted with its cookie and CSRF token, a loopback callback, tool calls, and a refresh on 401.
/// </summary>
public sealed class TypeScriptOAuthTests(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
{
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(90);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_typescript_sdk_authorizes_a_public_client_calls_tools_and_refreshes_on_401()
    {
        var run = await NodeTooling.RunAsync([Path.Combine(NodeTooling.NodeDirectory, "oauth-client.mjs")], ClientTimeout, new Dictionary<string, string>
        {
            ["DOVECOTE_MCP_URL"] = api.McpUrl,
            ["DOVECOTE_TENANT"] = OAuthApiFixture.DefaultTenant,
            ["DOVECOTE_PASSWORD"] = OAuthApiFixture.DefaultPassword,
        }, Ct);

        Assert.True(run.ExitCode == 0, $"oauth-client.mjs failed: {run.Describe()}");
        using var summary = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]);
        var root = summary.RootElement;
        string Describe() => $"summary: {root}";

        Assert.True(root.GetProperty("registered").GetBoolean(), Describe());
        var registration = root.GetProperty("registration");
        Assert.Equal("none", registration.GetProperty("token_endpoint_auth_method").GetString());
        Assert.False(registration.GetProperty("hasSecret").GetBoolean(), Describe()); // a public client gets no secret

        var authorize = root.GetProperty("authorize");
        Assert.Equal("S256", authorize.GetProperty("code_challenge_method").GetString());
        Assert.Equal(api.McpUrl, authorize.GetProperty("resource").GetString());
        Assert.Contains("dovecote_csrf", authorize.GetProperty("cookies").EnumerateArray().Select(c => c.GetString()));
        Assert.True(authorize.GetProperty("hasCsrf").GetBoolean(), Describe());
        Assert.Equal(200, authorize.GetProperty("callbackStatus").GetInt32()); // the browser landed on the real callback

        var redirect = root.GetProperty("redirect");
        Assert.True(redirect.GetProperty("stateMatches").GetBoolean(), Describe());
        Assert.Equal(api.BaseUrl, redirect.GetProperty("iss").GetString());
        Assert.True(root.GetProperty("token").GetProperty("hasRefreshToken").GetBoolean(), Describe());

        Assert.Contains("list_channels", root.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        Assert.Contains(OAuthApiFixture.SeededChannel, root.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
        Assert.DoesNotContain(OAuthApiFixture.AcmeChannel, root.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));

        var refreshed = root.GetProperty("afterRefresh");
        Assert.Contains(OAuthApiFixture.SeededChannel, refreshed.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
        Assert.True(refreshed.GetProperty("accessTokenChanged").GetBoolean(), Describe());
        Assert.True(refreshed.GetProperty("refreshTokenRotated").GetBoolean(), Describe()); // the contract: rotating refresh tokens
        Assert.Equal(["authorization_code", "refresh_token"], root.GetProperty("grants").EnumerateArray().Select(g => g.GetString()));
        Assert.Contains(401, root.GetProperty("mcpStatuses").EnumerateArray().Select(s => s.GetInt32())); // the refresh was caused by a 401
    }
}
