using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dovecote.Api;
using Dovecote.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Tests.OAuth;

/// <summary>OAuth lifetimes a fixture runs with; null keeps the server's default.</summary>
public sealed record OAuthLifetimes(TimeSpan? AccessToken = null, TimeSpan? RefreshToken = null, TimeSpan? RefreshTokenReuseLeeway = null);

/// <summary>A client as POST /register (or /admin/bootstrap-client) returned it.</summary>
public sealed record RegisteredClient(string ClientId, string? ClientSecret, JsonElement Json);

/// <summary>An answer of POST /mcp: status, the WWW-Authenticate challenge and the JSON-RPC message (null when none).</summary>
public sealed record McpHttpResult(HttpStatusCode Status, string WwwAuthenticate, JsonElement? Message, string Body);

/// <summary>A PKCE pair (RFC 7636, S256).</summary>
public sealed record Pkce(string Verifier, string Challenge)
{
    public static Pkce Create()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return new Pkce(verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// The real Api (embedded silo, OAuth server) on Kestrel at a fixed loopback port, so DOVECOTE_PUBLIC_URL (the issuer)
/// and the listening URL agree. Tenant "default" signs in with <see cref="DefaultPassword"/>, has the seeded Telegram
/// channel <see cref="SeededChannel"/> and the env profile <see cref="EnvProfile"/>; tenant "acme" has its own password
/// and channel, both created through the admin API the way an operator would.
/// Not sealed: <see cref="ShortLivedTokensOAuthApiFixture"/> only changes the lifetimes.
/// </summary>
public class OAuthApiFixture : IAsyncLifetime
{
    public const string AdminToken = "oauth-admin-token-7e1c9d2b-4f0a8e6c2d1b9357";
    public const string DefaultTenant = "default";
    public const string DefaultPassword = "default-password-4f8a2c";
    public const string SeededChannel = "telegram-phone"; // TELEGRAM_INSTANCES id "phone" → channel "telegram-phone"
    public const string SeededChatId = "4242";
    public const string AcmeTenant = "acme";
    public const string AcmePassword = "acme-password-9b3e1d";
    public const string AcmeChannel = "acme-phone";
    public const string AcmeChatId = "5151";
    public const string EnvProfile = "production";
    public const string NotifyScope = "dovecote:notify";
    public const string EnvReadScope = "dovecote:env:read";
    public const string OfflineScope = "offline_access";
    public const string McpProtocolVersion = "2025-11-25";

    public static readonly IReadOnlyDictionary<string, string> EnvValues = new Dictionary<string, string>
    {
        ["DATABASE_HOST"] = "db.internal.example",
        ["FEATURE_FLAG"] = "on",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly OAuthLifetimes _lifetimes;
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-oauth-").FullName;
    private WebApplication? _app;
    private HttpClient? _admin;

    public OAuthApiFixture() : this(new OAuthLifetimes())
    {
    }

    protected OAuthApiFixture(OAuthLifetimes lifetimes) => _lifetimes = lifetimes;

    public OAuthLifetimes Lifetimes => _lifetimes;

    /// <summary>More command-line settings for a derived fixture (closed registration, low sign-in limits, ...).</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>Starts what a derived fixture's <see cref="ExtraArguments"/> point at (fake identity providers), before the Api.</summary>
    protected virtual Task StartDependenciesAsync() => Task.CompletedTask;

    /// <summary>Stops them, after the Api.</summary>
    protected virtual ValueTask StopDependenciesAsync() => ValueTask.CompletedTask;
    public FakeTelegramServer Telegram { get; } = new();

    /// <summary>The public URL and issuer, e.g. http://127.0.0.1:41234 (no trailing slash).</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The protected resource: {BaseUrl}/mcp.</summary>
    public string McpUrl => $"{BaseUrl}/mcp";

    /// <summary>The running Api's services (grain factory, OpenIddict managers).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("the fixture is not initialized");

    /// <summary>An HttpClient for /admin with the operator token (owned by the fixture).</summary>
    public HttpClient Admin => _admin ?? throw new InvalidOperationException("the fixture is not initialized");

    public async ValueTask InitializeAsync()
    {
        await Telegram.StartAsync();
        await StartDependenciesAsync();
        var port = FreePorts.Next();
        BaseUrl = $"http://127.0.0.1:{port}";
        List<string> args =
        [
            $"--urls={BaseUrl}",
            $"--DOVECOTE_PUBLIC_URL={BaseUrl}",
            $"--DOVECOTE_DATA_DIR={_dataDirectory}",
            $"--DOVECOTE_SILO_PORT={FreePorts.Next()}",
            $"--DOVECOTE_GATEWAY_PORT={FreePorts.Next()}",
            "--DOVECOTE_ALLOW_PRIVATE_TARGETS=true",
            $"--TELEGRAM_API_BASE_URL={Telegram.BaseUrl}",
            "--Logging:LogLevel:Default=Warning",
            $"--ADMIN_TOKEN={AdminToken}",
            $"--OAUTH_PASSWORD={DefaultPassword}",
            $"--COOKIE_ENCRYPTION_KEY={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            $$"""--TELEGRAM_INSTANCES=[{"id":"phone","botToken":"123456:seed-token-abc","chatId":{{SeededChatId}}}]""",
        ];
        // Command-line keys use ':' (the '__' form is only translated for environment variables).
        if (_lifetimes.AccessToken is { } access) args.Add($"--OAuth:AccessTokenLifetime={access:c}");
        if (_lifetimes.RefreshToken is { } refresh) args.Add($"--OAuth:RefreshTokenLifetime={refresh:c}");
        if (_lifetimes.RefreshTokenReuseLeeway is { } leeway) args.Add($"--OAuth:RefreshTokenReuseLeeway={leeway:c}");

        args.AddRange(ExtraArguments);
        _app = DovecoteApi.Create([.. args]);
        await _app.StartAsync(Ct);
        _admin = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);

        await AdminPutAsync($"/admin/tenants/{DefaultTenant}/env/{EnvProfile}", new { values = EnvValues });
        await AdminPutAsync($"/admin/tenants/{AcmeTenant}", new { displayName = "Acme Corp", password = AcmePassword });
        await AdminPutAsync($"/admin/tenants/{AcmeTenant}/channels/{AcmeChannel}", new
        {
            type = "telegram",
            name = "Acme phone",
            settings = new { botToken = "123456:acme-token-xyz", chatId = AcmeChatId },
        });
    }

    /// <summary>A fresh headless "browser" (its own cookie jar) for the consent page.</summary>
    public ConsentDriver NewConsentDriver() => new(new Uri(BaseUrl));

    /// <summary>POST /register with <paramref name="metadata"/>; the raw answer, for tests of refusals.</summary>
    public async Task<HttpResponseMessage> PostRegisterAsync(JsonObject metadata, string path = "/register")
    {
        using var http = new HttpClient();
        return await http.PostAsync(BaseUrl + path, new StringContent(metadata.ToJsonString(), Encoding.UTF8, "application/json"), Ct);
    }

    /// <summary>Registers a client (asserts 201) and returns its id, secret and the whole answer.</summary>
    public async Task<RegisteredClient> RegisterClientAsync(JsonObject metadata)
    {
        using var response = await PostRegisterAsync(metadata);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /register: {(int)response.StatusCode} {body}");
        var json = JsonDocument.Parse(body).RootElement.Clone();
        return new RegisteredClient(json.GetProperty("client_id").GetString()!,
            json.TryGetProperty("client_secret", out var secret) ? secret.GetString() : null, json);
    }

    /// <summary>Registers a public client (token_endpoint_auth_method "none") with one redirect URI.</summary>
    public Task<RegisteredClient> RegisterPublicClientAsync(string redirectUri, string clientName = "Dovecote test client",
        string scope = $"{NotifyScope} {EnvReadScope} {OfflineScope}") =>
        RegisterClientAsync(new JsonObject
        {
            ["client_name"] = clientName,
            ["redirect_uris"] = new JsonArray(redirectUri),
            ["grant_types"] = new JsonArray("authorization_code", "refresh_token"),
            ["response_types"] = new JsonArray("code"),
            ["token_endpoint_auth_method"] = "none",
            ["scope"] = scope,
        });

    /// <summary>GET /authorize URL for the code flow with PKCE S256.</summary>
    public Uri AuthorizeUri(string clientId, string redirectUri, string scope, string state, Pkce pkce, string? resource = null)
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = scope,
            ["state"] = state,
            ["code_challenge"] = pkce.Challenge,
            ["code_challenge_method"] = "S256",
        };
        if (resource is not null) query["resource"] = resource;
        return new Uri(QueryHelpers.AddQueryString($"{BaseUrl}/authorize", query));
    }

    /// <summary>POST /token with a form; the status and the JSON answer.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Json)> PostTokenAsync(IDictionary<string, string> form)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync($"{BaseUrl}/token", new FormUrlEncodedContent(form), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        try
        {
            return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"POST /token answered {(int)response.StatusCode} with non-JSON: {body}");
        }
    }

    /// <summary>Redeems an authorization code (asserts 200) and returns the token response.</summary>
    public async Task<JsonElement> RedeemCodeAsync(string clientId, string code, string verifier, string redirectUri)
    {
        var (status, json) = await PostTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = clientId,
            ["code"] = code,
            ["code_verifier"] = verifier,
            ["redirect_uri"] = redirectUri,
        });
        Assert.True(status == HttpStatusCode.OK, $"POST /token (authorization_code): {(int)status} {json}");
        return json;
    }

    /// <summary>One stateless tools/call on /mcp with a bearer token, without the SDK (to see raw statuses and headers).</summary>
    public async Task<McpHttpResult> CallToolRawAsync(string? bearer, string tool, object? arguments = null)
    {
        var body = JsonSerializer.Serialize(
            new { jsonrpc = "2.0", id = 1, method = "tools/call", @params = new { name = tool, arguments = arguments ?? new { } } });
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, McpUrl) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", McpProtocolVersion);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        // Streamable HTTP may answer as SSE: the message is the last "data:" line.
        var json = text.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l["data:".Length..].Trim())
            .LastOrDefault(l => l.Length > 0) ?? text;
        JsonElement? message = null;
        try
        {
            if (json.Length > 0) message = JsonDocument.Parse(json).RootElement.Clone();
        }
        catch (JsonException)
        {
            // not JSON-RPC (e.g. an empty 401); the caller asserts on status and header
        }
        return new McpHttpResult(response.StatusCode, response.Headers.WwwAuthenticate.ToString(), message, text);
    }

    private async Task AdminPutAsync(string path, object body)
    {
        using var response = await Admin.PutAsJsonAsync(path, body, Ct);
        Assert.True(response.IsSuccessStatusCode, $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
    }

    public async ValueTask DisposeAsync()
    {
        _admin?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
        await Telegram.DisposeAsync();
        await StopDependenciesAsync();
        Directory.Delete(_dataDirectory, recursive: true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>Access tokens that live 3 s, so a test can outlive one and see the client refresh.</summary>
public sealed class ShortLivedTokensOAuthApiFixture() : OAuthApiFixture(new OAuthLifetimes(AccessToken: TimeSpan.FromSeconds(3)));
