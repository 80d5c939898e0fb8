using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Dovecote.Api.OAuth;
using Dovecote.Api.RateLimiting;
using Dovecote.Grains.Interfaces.Tenants;
using Microsoft.AspNetCore.Authentication;

namespace Dovecote.Api.Security;

/// <summary>
/// Bearer API keys: a configured key acts for tenant "default"; a minted "dvc_{id}_{secret}" key is verified by
/// its key grain. It also answers every refusal at /mcp, for OAuth tokens too (see <see cref="McpBearer"/>).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<ApiKeyOptions> apiKeys,
    IGrainFactory grains,
    FailedAuthenticationGate failures,
    Dovecote.Api.OAuth.PublicUrl publicUrl) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    private const string DefaultTenant = "default";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var presented = header["Bearer ".Length..].Trim();
        if (presented.Length is 0 or > 512) return AuthenticateResult.Fail("unknown or revoked API key");

        // Cheapest first. The budget is checked before any key, so past the limit even the right key is refused (429 from
        // the challenge); and only a key shaped exactly like a minted one reaches (and activates) a key grain.
        var budget = await failures.PeekAsync(Context);
        if (!budget.Allowed) return AuthenticateResult.Fail("too many failed attempts from this address");
        if (MatchesConfiguredKey(presented))
            return Success(DefaultTenant, "apikey:configured");
        if (IsMintedShape(presented) && ApiKeyFormat.TryParse(presented, out var keyId, out var secret)
            && await grains.GetGrain<IApiKeyGrain>(keyId).VerifyAsync(secret) is { } tenant)
            return Success(tenant, $"apikey:{keyId}");

        return AuthenticateResult.Fail("unknown or revoked API key");
    }

    /// <summary>
    /// Exactly what the tenant grain mints: "dvc_", a 12-character id in lowercase base32, "_", and the 43-character
    /// base64url of 32 random bytes. Anything else is refused without a grain call.
    /// </summary>
    internal static bool IsMintedShape(string key)
    {
        const int idLength = 12, secretLength = 43;
        if (key.Length != ApiKeyFormat.Prefix.Length + idLength + 1 + secretLength || !key.StartsWith(ApiKeyFormat.Prefix, StringComparison.Ordinal))
            return false;
        var id = key.AsSpan(ApiKeyFormat.Prefix.Length, idLength);
        var secret = key.AsSpan(ApiKeyFormat.Prefix.Length + idLength + 1);
        return key[ApiKeyFormat.Prefix.Length + idLength] == '_'
            && !id.ContainsAnyExcept(KeyIdCharacters)
            && !secret.ContainsAnyExcept(SecretCharacters);
    }

    private static readonly SearchValues<char> KeyIdCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyz234567");
    private static readonly SearchValues<char> SecretCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>Compares digests in constant time, and checks every configured key so timing tells nothing.</summary>
    private bool MatchesConfiguredKey(string presented)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var match = false;
        foreach (var configured in apiKeys.Value.ConfiguredKeyDigests) match |= CryptographicOperations.FixedTimeEquals(digest, configured);
        return match;
    }

    private AuthenticateResult Success(string tenant, string subject)
    {
        // An API key is the tenant's own credential: it may notify and read env profiles; admin is never granted.
        var identity = new ClaimsIdentity(
            [
                new Claim("sub", subject),
                new Claim(DovecoteClaims.Tenant, tenant),
                new Claim(DovecoteClaims.Scope, string.Join(' ', DovecoteScopes.Resource)),
            ],
            SchemeName, "sub", null);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>
    /// Runs only when an endpoint that needs this credential refused the request, so only real failed attempts count
    /// (cluster-wide, per client); a request that presented a credential and is past the limit gets 429 instead of 401.
    /// </summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Request.Headers.Authorization.Count > 0)
        {
            var decision = await failures.FailedAsync(Context);
            if (!decision.Allowed)
            {
                await ClusterRateLimiter.TooMany(decision).ExecuteAsync(Context);
                return;
            }
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        // RFC 9728 §5.1 and MCP: where to discover the authorization server, and which scope to ask for.
        var error = Request.Headers.Authorization.Count > 0 ? "error=\"invalid_token\", " : "";
        Response.Headers.WWWAuthenticate = $"Bearer {error}resource_metadata=\"{publicUrl.ResourceMetadata}\", scope=\"{DovecoteScopes.Notify}\"";
    }
}
