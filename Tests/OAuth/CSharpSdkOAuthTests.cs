using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.WebUtilities;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Dovecote.Tests.OAuth;

/// <summary>One HTTP request the SDK client sent: method, path, the grant_type of a /token form, the bearer it presented.</summary>
public sealed record SentRequest(
    string Method,
    string Path,
    string? GrantType,
    string? Bearer,
    HttpStatusCode Status,
    string? WwwAuthenticate,
    DateTimeOffset AnsweredAt);

/// <summary>Records every request the SDK makes (discovery, registration, token, MCP) so tests can see what it did.</summary>
public sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private readonly ConcurrentQueue<SentRequest> _sent = new();

    public IReadOnlyList<SentRequest> Sent => [.. _sent];

    public IEnumerable<string?> TokenGrants => Sent.Where(r => r.Method == "POST" && r.Path == "/token").Select(r => r.GrantType);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string? grantType = null;
        // Only /token bodies are read: they are small buffered forms, while /mcp bodies may be streamed.
        if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath == "/token" && request.Content is not null)
        {
            var form = QueryHelpers.ParseQuery("?" + await request.Content.ReadAsStringAsync(cancellationToken));
            grantType = form.TryGetValue("grant_type", out var g) ? g.ToString() : null;
        }
        var response = await base.SendAsync(request, cancellationToken);
        _sent.Enqueue(new SentRequest(request.Method.Method, request.RequestUri!.AbsolutePath, grantType, request.Headers.Authorization?.Parameter,
            response.StatusCode, response.Headers.WwwAuthenticate.ToString(), DateTimeOffset.UtcNow));
        return response;
    }
}

/// <summary>
/// The MCP C# SDK client with OAuth: a consent driver plays the user, typing the tenant's password, or, given a
/// <paramref name="browser"/> already signed in (and no password), picking the tenant as that person; every request is recorded.
/// </summary>
public sealed class SdkOAuthSession(OAuthApiFixture api, string tenant, string? password, ConsentDriver? browser = null) : IAsyncDisposable
{
    private readonly ConsentDriver _browser = browser ?? api.NewConsentDriver();
    private readonly ConcurrentQueue<Uri> _authorizations = new();
    private McpClient? _client;

    public RecordingHandler Recorder { get; } = new();

    /// <summary>Loopback redirect on a port nothing listens on: the consent driver reads the 302, nothing follows it.</summary>
    public Uri RedirectUri { get; } = new($"http://127.0.0.1:{FreePorts.Next()}/callback");

    /// <summary>The authorize URLs the SDK sent the "user" to, in order.</summary>
    public IReadOnlyList<Uri> Authorizations => [.. _authorizations];

    public McpClient Client => _client ?? throw new InvalidOperationException("not connected");

    public async Task<McpClient> ConnectAsync()
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(api.McpUrl),
            TransportMode = HttpTransportMode.StreamableHttp,
            OAuth = new ClientOAuthOptions
            {
                RedirectUri = RedirectUri,
                DynamicClientRegistration = new DynamicClientRegistrationOptions { ClientName = "Dovecote C# SDK test" },
                AuthorizationCallbackHandler = async (context, cancellationToken) =>
                {
                    _authorizations.Enqueue(context.AuthorizationUri);
                    var redirect = await _browser.AuthorizeAsync(context.AuthorizationUri, tenant, password, cancellationToken);
                    Assert.StartsWith(RedirectUri.ToString(), redirect.Location.ToString());
                    return new AuthorizationResult { Code = redirect.Code, State = redirect.State, Iss = redirect.Iss };
                },
            },
        }, new HttpClient(Recorder), ownsHttpClient: true);
        _client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
        return _client;
    }

    /// <summary>The scope parameter of the n-th authorization request.</summary>
    public string[] ScopesOf(int index) =>
        QueryHelpers.ParseQuery(Authorizations[index].Query).TryGetValue("scope", out var scope)
            ? scope.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries)
            : [];

    /// <summary>The bearer the SDK last presented at /mcp.</summary>
    public string LastMcpBearer => Recorder.Sent.Last(r => r.Path == "/mcp" && r.Bearer is not null).Bearer!;

    public async ValueTask DisposeAsync()
    {
        if (_client is not null) await _client.DisposeAsync();
        _browser.Dispose();
    }
}

/// <summary>The MCP C# SDK client against the real OAuth server: discovery, DCR, PKCE, consent, tool calls, step-up.</summary>
public sealed class CSharpSdkOAuthTests(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sdk_discovers_registers_authorizes_and_calls_tools()
    {
        await using var session = new SdkOAuthSession(api, OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword);
        var client = await session.ConnectAsync();

        var channels = await client.CallToolAsync("list_channels", cancellationToken: Ct);
        var message = $"OAuth hello {Guid.NewGuid():N}";
        var sent = await client.CallToolAsync(
            "send_notification",
            new Dictionary<string, object?> { ["channel"] = OAuthApiFixture.SeededChannel, ["message"] = message, ["wait_seconds"] = 20 },
            cancellationToken: Ct);

        Assert.NotEqual(true, channels.IsError);
        Assert.Contains(channels.StructuredContent!.Value.GetProperty("channels").EnumerateArray(),
            c => c.GetProperty("id").GetString() == OAuthApiFixture.SeededChannel);
        Assert.NotEqual(true, sent.IsError);
        Assert.Equal("delivered", sent.StructuredContent!.Value.GetProperty("deliveries")[0].GetProperty("status").GetString());
        Assert.Contains(api.Telegram.Messages, m => m.ChatId == OAuthApiFixture.SeededChatId && m.Text.Contains(message));

        // The path the SDK took: 401 with a challenge, discovery, DCR, one consent with PKCE S256 and the resource, a code grant.
        var sentRequests = session.Recorder.Sent;
        var first = sentRequests.First(r => r.Path == "/mcp");
        Assert.Equal(HttpStatusCode.Unauthorized, first.Status);
        Assert.Contains($"resource_metadata=\"{api.BaseUrl}/.well-known/oauth-protected-resource/mcp\"", first.WwwAuthenticate);
        Assert.Contains(
            sentRequests,
            r => r.Path.StartsWith("/.well-known/oauth-protected-resource", StringComparison.Ordinal) && r.Status == HttpStatusCode.OK);
        Assert.Contains(
            sentRequests,
            r => r.Path.StartsWith("/.well-known/", StringComparison.Ordinal)
                && r.Path.Contains("oauth-authorization-server")
                && r.Status == HttpStatusCode.OK);
        Assert.Contains(sentRequests, r => r is { Method: "POST", Path: "/register", Status: HttpStatusCode.Created });
        var authorize = QueryHelpers.ParseQuery(Assert.Single(session.Authorizations).Query);
        Assert.Equal("S256", authorize["code_challenge_method"].ToString());
        Assert.Equal(api.McpUrl, authorize["resource"].ToString());
        Assert.Equal(["authorization_code"], session.Recorder.TokenGrants);
        Assert.Contains(sentRequests, r => r is { Path: "/mcp", Status: HttpStatusCode.OK } && r.Bearer is not null);
    }

    [Fact]
    public async Task A_token_signed_in_as_acme_sees_only_acmes_channels()
    {
        await using var session = new SdkOAuthSession(api, OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword);
        var client = await session.ConnectAsync();

        var channels = await client.CallToolAsync("list_channels", cancellationToken: Ct);

        var ids = channels.StructuredContent!.Value.GetProperty("channels").EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.Equal([OAuthApiFixture.AcmeChannel], ids);
    }

    [Fact]
    public async Task Get_env_with_only_the_notify_scope_steps_up_and_the_sdk_reauthorizes()
    {
        await using var session = new SdkOAuthSession(api, OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword);
        var client = await session.ConnectAsync();
        await client.CallToolAsync("list_channels", cancellationToken: Ct);
        // The 401 asked for dovecote:notify only, so the first token cannot read env profiles.
        Assert.Contains(OAuthApiFixture.NotifyScope, session.ScopesOf(0));
        Assert.DoesNotContain(OAuthApiFixture.EnvReadScope, session.ScopesOf(0));
        var narrowToken = session.LastMcpBearer;
        var raw = await api.CallToolRawAsync(narrowToken, "get_env", new { profile = OAuthApiFixture.EnvProfile });
        Assert.Equal(HttpStatusCode.Forbidden, raw.Status);
        Assert.Contains("error=\"insufficient_scope\"", raw.WwwAuthenticate);
        Assert.Contains($"scope=\"{OAuthApiFixture.NotifyScope} {OAuthApiFixture.EnvReadScope}\"", raw.WwwAuthenticate);
        Assert.Contains($"resource_metadata=\"{api.BaseUrl}/.well-known/oauth-protected-resource/mcp\"", raw.WwwAuthenticate);

        var env = await client.CallToolAsync("get_env", new Dictionary<string, object?> { ["profile"] = OAuthApiFixture.EnvProfile }, cancellationToken: Ct);

        Assert.NotEqual(true, env.IsError);
        var values = env.StructuredContent!.Value.GetProperty("values");
        foreach (var (key, value) in OAuthApiFixture.EnvValues) Assert.Equal(value, values.GetProperty(key).GetString());
        Assert.Equal(2, session.Authorizations.Count); // the SDK went back to the consent page
        Assert.Contains(OAuthApiFixture.EnvReadScope, session.ScopesOf(1));
        Assert.Contains(
            session.Recorder.Sent,
            r => r is { Path: "/mcp", Status: HttpStatusCode.Forbidden } && r.WwwAuthenticate!.Contains("insufficient_scope"));
    }

    [Fact]
    public async Task Without_a_token_mcp_answers_401_with_the_resource_metadata_and_scope()
    {
        var result = await api.CallToolRawAsync(null, "list_channels");
        var bad = await api.CallToolRawAsync("not-a-token", "list_channels");

        foreach (var answer in new[] { result, bad })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
            Assert.StartsWith("Bearer", answer.WwwAuthenticate);
            Assert.Contains($"resource_metadata=\"{api.BaseUrl}/.well-known/oauth-protected-resource/mcp\"", answer.WwwAuthenticate);
            Assert.Contains($"scope=\"{OAuthApiFixture.NotifyScope}\"", answer.WwwAuthenticate);
        }
    }
}

/// <summary>With 3 s access tokens: once one has expired the SDK refreshes (refresh_token grant) instead of asking the user again.</summary>
public sealed class CSharpSdkOAuthRefreshTests(ShortLivedTokensOAuthApiFixture api) : IClassFixture<ShortLivedTokensOAuthApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task After_the_access_token_expires_the_sdk_refreshes_and_the_call_succeeds()
    {
        await using var session = new SdkOAuthSession(api, OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword);
        var client = await session.ConnectAsync();
        await client.CallToolAsync("list_channels", cancellationToken: Ct);
        Assert.Equal(["authorization_code"], session.Recorder.TokenGrants);
        var firstToken = session.LastMcpBearer;

        // Wait on the condition itself: the server stops accepting the first access token.
        var lifetime = api.Lifetimes.AccessToken!.Value;
        var issuedAt = session.Recorder.Sent.Single(r => r.GrantType == "authorization_code").AnsweredAt;
        await WaitUntilRejectedAsync(firstToken, lifetime + TimeSpan.FromSeconds(30));
        var rejectedAfter = DateTimeOffset.UtcNow - issuedAt;

        var channels = await client.CallToolAsync("list_channels", cancellationToken: Ct);

        // JWT exp has whole seconds, hence the 1 s allowance.
        Assert.True(
            rejectedAfter >= lifetime - TimeSpan.FromSeconds(1),
            $"the token was rejected {rejectedAfter} after it was issued, before its {lifetime} lifetime");
        Assert.NotEqual(true, channels.IsError);
        Assert.Contains(
            channels.StructuredContent!.Value.GetProperty("channels").EnumerateArray(),
            c => c.GetProperty("id").GetString() == OAuthApiFixture.SeededChannel);
        Assert.Equal(["authorization_code", "refresh_token"], session.Recorder.TokenGrants);
        Assert.Single(session.Authorizations); // refreshed, not re-authorized
        Assert.NotEqual(firstToken, session.LastMcpBearer);
    }

    /// <summary>Polls /mcp with <paramref name="token"/> until it gets 401 (fails after <paramref name="timeout"/>).</summary>
    private async Task WaitUntilRejectedAsync(string token, TimeSpan timeout)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        while (true)
        {
            var answer = await api.CallToolRawAsync(token, "list_channels");
            if (answer.Status == HttpStatusCode.Unauthorized) return;
            Assert.True(answer.Status == HttpStatusCode.OK, $"unexpected {(int)answer.Status} while waiting for expiry: {answer.Body}");
            Assert.True(
                watch.Elapsed < timeout,
                $"the server still accepted the access token {watch.Elapsed} after it was used, past its {api.Lifetimes.AccessToken} lifetime");
            await poll.WaitForNextTickAsync(Ct);
        }
    }
}
