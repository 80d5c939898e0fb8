using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dovecote.Api;
using Microsoft.AspNetCore.Builder;

namespace Dovecote.Tests.OAuth;

/// <summary>
/// Two Api "pods" behind one public URL on one Orleans cluster (the first hosts the silo, the second is a pure client),
/// sharing the configured OAuth keys; plus a third service with the same keys at another URL, i.e. another audience.
/// </summary>
public sealed class TwoApiPodsTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-pods-").FullName;
    private readonly List<WebApplication> _apps = [];
    private const string Password = "pods-password-1";
    private const string AdminToken = "pods-admin-token-3b8e1f5a-9c2d-4e7f-a6b0";
    // The longest allowed, so a call right after a revocation would still find the cached "valid" if the pod did not forget it.
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string _podA = "", _podB = "", _otherService = "";

    public async ValueTask InitializeAsync()
    {
        var gatewayPort = FreePorts.Next();
        var publicUrl = $"http://127.0.0.1:{FreePorts.Next()}";
        _podA = publicUrl;
        await StartAsync(publicUrl, publicUrl,
            $"--DOVECOTE_DATA_DIR={_dataDirectory}", $"--DOVECOTE_SILO_PORT={FreePorts.Next()}", $"--DOVECOTE_GATEWAY_PORT={gatewayPort}",
            $"--OAUTH_PASSWORD={Password}", $"--ADMIN_TOKEN={AdminToken}");
        _podB = $"http://127.0.0.1:{FreePorts.Next()}";
        await StartAsync(_podB, publicUrl, $"--DOVECOTE_GATEWAYS=127.0.0.1:{gatewayPort}");
        _otherService = $"http://127.0.0.1:{FreePorts.Next()}";
        await StartAsync(_otherService, _otherService, $"--DOVECOTE_GATEWAYS=127.0.0.1:{gatewayPort}");
    }

    private async Task StartAsync(string listen, string publicUrl, params string[] more)
    {
        var app = DovecoteApi.Create(
        [
            $"--urls={listen}",
            $"--DOVECOTE_PUBLIC_URL={publicUrl}",
            "--Logging:LogLevel:Default=Warning",
            $"--OAuth:TokenStatusCacheLifetime={CacheLifetime}",
            .. OAuthTestKeys.Arguments,
            .. more,
        ]);
        _apps.Add(app);
        await app.StartAsync(Ct);
    }

    [Fact]
    public async Task One_code_redeemed_at_once_through_two_pods_succeeds_exactly_once()
    {
        for (var round = 0; round < 3; round++)
            await AuthorizationCodes.AssertRedeemedExactlyOnceAsync(await AuthorizationCodes.IssueAsync(_podA, "default", Password), _podA, _podB);
    }

    [Fact]
    public async Task A_token_from_one_pod_works_on_the_other_but_not_at_another_audience()
    {
        var code = await AuthorizationCodes.IssueAsync(_podA, "default", Password);
        var (status, tokens) = await AuthorizationCodes.PostTokenAsync(_podB, code.Redemption());
        Assert.Equal(HttpStatusCode.OK, status);
        var accessToken = tokens.GetProperty("access_token").GetString()!;

        Assert.Equal(HttpStatusCode.OK, await ListChannelsAsync(_podA, accessToken));
        Assert.Equal(HttpStatusCode.OK, await ListChannelsAsync(_podB, accessToken));
        // Same keys, same cluster, but issued for {pod url}/mcp: the other service's /mcp refuses it.
        Assert.Equal(HttpStatusCode.Unauthorized, await ListChannelsAsync(_otherService, accessToken));
    }

    [Fact]
    public async Task A_grant_revoked_through_pod_A_is_refused_there_at_once_and_on_pod_B_within_the_cache_lifetime()
    {
        var (code, accessToken, _) = await SignInAsync();
        // Both pods now remember the token and its grant as valid.
        Assert.Equal(HttpStatusCode.OK, await ListChannelsAsync(_podA, accessToken));
        Assert.Equal(HttpStatusCode.OK, await ListChannelsAsync(_podB, accessToken));

        using var admin = new HttpClient { BaseAddress = new Uri(_podA) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", AdminToken);
        var grants = await admin.GetFromJsonAsync<JsonElement>("/admin/tenants/default/grants", Ct);
        var grantId = grants.EnumerateArray().Single(g => g.GetProperty("client_id").GetString() == code.ClientId).GetProperty("grant_id").GetString();
        using (var revoke = await admin.PostAsJsonAsync("/admin/revoke", new { grant_id = grantId }, Ct))
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        await AssertRefusedOnAThenOnBAsync(accessToken);
    }

    [Fact]
    public async Task An_access_token_revoked_at_pod_A_is_refused_there_at_once_and_on_pod_B_within_the_cache_lifetime()
    {
        var (code, accessToken, _) = await SignInAsync();
        Assert.Equal(HttpStatusCode.OK, await ListChannelsAsync(_podA, accessToken));
        Assert.Equal(HttpStatusCode.OK, await ListChannelsAsync(_podB, accessToken));

        Assert.Equal(HttpStatusCode.OK, await RevokeAsync(_podA, code.ClientId, accessToken, "access_token"));

        await AssertRefusedOnAThenOnBAsync(accessToken);
    }

    [Fact]
    public async Task A_refresh_token_revoked_at_pod_A_cannot_be_used_at_pod_B()
    {
        var (code, _, refreshToken) = await SignInAsync();
        Assert.Equal(HttpStatusCode.OK, await RevokeAsync(_podA, code.ClientId, refreshToken, "refresh_token"));

        var (status, error) = await AuthorizationCodes.PostTokenAsync(_podB, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = code.ClientId,
            ["refresh_token"] = refreshToken,
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());
    }

    /// <summary>
    /// Pod A made the revocation, so its next call is refused; pod B learns it when its cached answer expires. Waits on
    /// the condition, and allows 10 s beyond the lifetime for a loaded machine: a pod that never forgot would hit the deadline.
    /// </summary>
    private async Task AssertRefusedOnAThenOnBAsync(string accessToken)
    {
        var revoked = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Unauthorized, await ListChannelsAsync(_podA, accessToken));
        var deadline = CacheLifetime + TimeSpan.FromSeconds(10);
        while (await ListChannelsAsync(_podB, accessToken) == HttpStatusCode.OK)
        {
            Assert.True(revoked.Elapsed < deadline, $"pod B still accepted the token {revoked.Elapsed.TotalSeconds:F1} s after the revocation");
            await Task.Delay(100, Ct);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await ListChannelsAsync(_podB, accessToken));
    }

    private async Task<(AuthorizationCodes.IssuedCode Code, string AccessToken, string RefreshToken)> SignInAsync()
    {
        var code = await AuthorizationCodes.IssueAsync(_podA, "default", Password);
        var (status, tokens) = await AuthorizationCodes.PostTokenAsync(_podA, code.Redemption());
        Assert.Equal(HttpStatusCode.OK, status);
        return (code, tokens.GetProperty("access_token").GetString()!, tokens.GetProperty("refresh_token").GetString()!);
    }

    private static async Task<HttpStatusCode> RevokeAsync(string baseUrl, string clientId, string token, string hint)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync($"{baseUrl}/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = token,
            ["token_type_hint"] = hint,
            ["client_id"] = clientId,
        }), Ct);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> ListChannelsAsync(string baseUrl, string bearer)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/mcp")
        {
            Content = new StringContent(
                """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_channels","arguments":{}}}""",
                System.Text.Encoding.UTF8,
                "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        request.Headers.Authorization = new("Bearer", bearer);
        using var response = await http.SendAsync(request, Ct);
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _apps.Count - 1; i >= 0; i--) await _apps[i].DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
