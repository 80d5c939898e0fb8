using System.Net;
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
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string _podA = "", _podB = "", _otherService = "";

    public async ValueTask InitializeAsync()
    {
        var gatewayPort = FreePorts.Next();
        var publicUrl = $"http://127.0.0.1:{FreePorts.Next()}";
        _podA = publicUrl;
        await StartAsync(publicUrl, publicUrl,
            $"--DOVECOTE_DATA_DIR={_dataDirectory}", $"--DOVECOTE_SILO_PORT={FreePorts.Next()}", $"--DOVECOTE_GATEWAY_PORT={gatewayPort}",
            $"--OAUTH_PASSWORD={Password}");
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
