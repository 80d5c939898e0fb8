using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Tests.Fakes;

/// <summary>A person at the fake identity provider.</summary>
public sealed record FakeOidcUser(string Subject, string Email, bool EmailVerified, string Name);

/// <summary>
/// A fake OpenID Connect provider: discovery (<c>/.well-known/openid-configuration</c>), <c>/jwks</c> (RS256), <c>/authorize</c>
/// (the person named by <see cref="SignInAs"/> approves at once; the nonce and PKCE challenge are remembered), <c>/token</c>
/// (client secret, single-use code, redirect_uri and PKCE verifier checked; an ID token signed with the JWKS key) and
/// <c>/userinfo</c>. <see cref="TamperNonce"/> makes the next ID token carry another nonce.
/// </summary>
public sealed class FakeOidcProvider(string clientId, string clientSecret) : FakePlatformServer, IDisposable
{
    private const string KeyId = "fake-oidc-1";
    private readonly RSA _key = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, FakeOidcUser> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Issued> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeOidcUser> _tokens = new(StringComparer.Ordinal);
    private volatile FakeOidcUser? _signedIn;

    private sealed record Issued(FakeOidcUser User, string RedirectUri, string? Nonce, string? Challenge);

    /// <summary>The next ID token carries a nonce other than the one the client sent.</summary>
    public bool TamperNonce { get; set; }

    protected override ScriptedResponse DownResponse => Json(503, """{"error":"temporarily_unavailable"}""");

    public FakeOidcUser AddUser(string subject, string email, bool emailVerified = true, string? name = null)
    {
        var user = new FakeOidcUser(subject, email, emailVerified, name ?? email);
        _users[subject] = user;
        return user;
    }

    public void SignInAs(string subject) => _signedIn = _users[subject];

    protected override void MapRoutes(IEndpointRouteBuilder routes)
    {
        MapPlatform(routes, "/.well-known/openid-configuration", ["GET"], _ => Json(200, new JsonObject
        {
            ["issuer"] = BaseUrl,
            ["authorization_endpoint"] = $"{BaseUrl}/authorize",
            ["token_endpoint"] = $"{BaseUrl}/token",
            ["userinfo_endpoint"] = $"{BaseUrl}/userinfo",
            ["jwks_uri"] = $"{BaseUrl}/jwks",
            ["response_types_supported"] = new JsonArray("code"),
            ["response_modes_supported"] = new JsonArray("query"),
            ["grant_types_supported"] = new JsonArray("authorization_code"),
            ["subject_types_supported"] = new JsonArray("public"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["scopes_supported"] = new JsonArray("openid", "profile", "email"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "client_secret_basic"),
            ["code_challenge_methods_supported"] = new JsonArray("S256"),
            ["authorization_response_iss_parameter_supported"] = true,
            ["claims_supported"] = new JsonArray("sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"),
        }.ToJsonString()));
        MapPlatform(routes, "/jwks", ["GET"], _ =>
        {
            var parameters = _key.ExportParameters(includePrivateParameters: false);
            return Json(200, new JsonObject
            {
                ["keys"] = new JsonArray(new JsonObject
                {
                    ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = KeyId,
                    ["n"] = Base64Url.EncodeToString(parameters.Modulus), ["e"] = Base64Url.EncodeToString(parameters.Exponent),
                }),
            }.ToJsonString());
        });
        MapPlatform(routes, "/authorize", ["GET"], Authorize);
        MapPlatform(routes, "/token", ["POST"], Token);
        MapPlatform(routes, "/userinfo", ["GET", "POST"], UserInfo);
        MapUnknown(routes, _ => Json(404, """{"error":"not_found"}"""));
    }

    private ScriptedResponse Authorize(PlatformRequest request)
    {
        var redirect = request.Query("redirect_uri");
        if (request.Query("client_id") != clientId || redirect is null || request.Query("response_type") != "code")
            return new ScriptedResponse(400, "<h1>invalid_request</h1>", "text/html");
        if (_signedIn is not { } user) return new ScriptedResponse(200, "<h1>Sign in</h1>", "text/html");
        var code = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));
        _codes[code] = new Issued(user, redirect, request.Query("nonce"), request.Query("code_challenge"));
        var location = QueryHelpers.AddQueryString(redirect, new Dictionary<string, string?> { ["code"] = code, ["state"] = request.Query("state"), ["iss"] = BaseUrl });
        return new ScriptedResponse(302, "", "", HeaderMap(("Location", location)));
    }

    private ScriptedResponse Token(PlatformRequest request)
    {
        var token = TokenRequest.Of(request.Body, request.Context);
        string? Field(string name) => token.Field(name);
        var (id, secret) = (token.ClientId, token.ClientSecret);
        if (id != clientId || secret != clientSecret) return Json(401, """{"error":"invalid_client"}""");
        if (Field("grant_type") != "authorization_code" || Field("code") is not { } code || !_codes.TryRemove(code, out var issued)
            || Field("redirect_uri") != issued.RedirectUri)
            return Json(400, """{"error":"invalid_grant"}""");
        if (issued.Challenge is not null && (Field("code_verifier") is not { } verifier
            || Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) != issued.Challenge))
            return Json(400, """{"error":"invalid_grant","error_description":"PKCE verification failed"}""");

        var accessToken = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));
        _tokens[accessToken] = issued.User;
        var nonce = TamperNonce ? Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)) : issued.Nonce;
        TamperNonce = false;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = BaseUrl, ["sub"] = issued.User.Subject, ["aud"] = clientId, ["iat"] = now, ["exp"] = now + 300,
            ["email"] = issued.User.Email, ["email_verified"] = issued.User.EmailVerified, ["name"] = issued.User.Name,
        };
        if (nonce is not null) claims["nonce"] = nonce;
        return Json(200, new JsonObject
        {
            ["access_token"] = accessToken, ["token_type"] = "Bearer", ["expires_in"] = 300, ["id_token"] = Sign(claims),
        }.ToJsonString());
    }

    private ScriptedResponse UserInfo(PlatformRequest request)
    {
        var authorization = request.Context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.TryGetValue(authorization[7..], out var user))
            return new ScriptedResponse(401, "", "", HeaderMap(("WWW-Authenticate", "Bearer error=\"invalid_token\"")));
        return Json(200, JsonSerializer.Serialize(new { sub = user.Subject, email = user.Email, email_verified = user.EmailVerified, name = user.Name }));
    }

    private string Sign(JsonObject claims)
    {
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"RS256","kid":"{{KeyId}}","typ":"JWT"}"""));
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{payload}.{Base64Url.EncodeToString(signature)}";
    }

    private static ScriptedResponse Json(int status, string body) => new(status, body, "application/json");

    public void Dispose() => _key.Dispose();
}
