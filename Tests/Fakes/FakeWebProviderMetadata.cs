using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Tests.Fakes;

/// <summary>
/// Google's and Microsoft's published sign-in metadata, which OpenIddict's web integration reads before the first challenge
/// (it ships no endpoints for them): the discovery documents as the providers publish them (their real endpoint URLs, so a
/// challenge points the browser at the real authorize endpoints) and their key sets (JWKS, here one fresh RSA key each),
/// each at its real host and path; and for Google the rest of a sign-in: <see cref="ApproveAtGoogle"/> plays the person
/// approving at the authorize endpoint, <c>POST /token</c> (client secret, single-use code, redirect_uri, PKCE checked; an
/// RS256 ID token from the published key) and <c>GET /v1/userinfo</c> answer as Google's do. The Api reaches it through <see cref="Proxy"/>, an HTTP proxy on loopback that accepts a
/// CONNECT to those hosts only and ends TLS with a certificate of its own (<see cref="Certificate"/>), as the real hosts would.
/// </summary>
public sealed class FakeWebProviderMetadata : FakePlatformServer, IDisposable
{
    public const string GoogleHost = "accounts.google.com", GoogleKeysHost = "www.googleapis.com", MicrosoftHost = "login.microsoftonline.com";
    public const string GoogleTokenHost = "oauth2.googleapis.com", GoogleUserInfoHost = "openidconnect.googleapis.com";
    public const string GoogleAuthorize = "https://accounts.google.com/o/oauth2/v2/auth";
    public const string MicrosoftCommonAuthorize = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";

    private const string GoogleKeyId = "google-1";
    private static readonly string[] Hosts = [GoogleHost, GoogleKeysHost, GoogleTokenHost, GoogleUserInfoHost, MicrosoftHost];
    private readonly RSA _key = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, (FakeOidcUser User, string ClientId, string RedirectUri, string Nonce, string Challenge)> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeOidcUser> _tokens = new(StringComparer.Ordinal);
    private readonly TlsProxy _proxy;

    public FakeWebProviderMetadata()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=fake web providers", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in Hosts) names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        Certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        _proxy = new TlsProxy(Certificate, () => new Uri(BaseUrl));
        _proxy.Start();
    }

    /// <summary>The certificate the proxy ends TLS with; the Api's handler for these providers trusts it alone.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>"http://127.0.0.1:{port}" of the CONNECT proxy.</summary>
    public Uri Proxy => _proxy.Address;

    protected override ScriptedResponse DownResponse => new(503, "", "text/html");

    protected override void MapRoutes(IEndpointRouteBuilder routes)
    {
        MapPlatform(routes, "/.well-known/openid-configuration", ["GET"], r => OnHost(r, GoogleHost, GoogleDiscovery));
        MapPlatform(routes, "/oauth2/v3/certs", ["GET"], r => OnHost(r, GoogleKeysHost, Keys(GoogleKeyId)));
        MapPlatform(routes, "/token", ["POST"], r => r.Context.Request.Host.Host == GoogleTokenHost ? GoogleToken(r) : new ScriptedResponse(404, "", "text/html"));
        MapPlatform(routes, "/v1/userinfo", ["GET"], r => r.Context.Request.Host.Host == GoogleUserInfoHost ? GoogleUserInfo(r) : new ScriptedResponse(404, "", "text/html"));
        MapPlatform(routes, "/common/v2.0/.well-known/openid-configuration", ["GET"], r => OnHost(r, MicrosoftHost, MicrosoftCommonDiscovery));
        MapPlatform(routes, "/common/discovery/v2.0/keys", ["GET"], r => OnHost(r, MicrosoftHost, Keys("microsoft-1")));
        MapUnknown(routes, _ => new ScriptedResponse(404, "", "text/html"));
    }

    private static ScriptedResponse OnHost(PlatformRequest request, string host, string json) =>
        request.Context.Request.Host.Host == host ? Json(json) : new ScriptedResponse(404, "", "text/html");

    /// <summary>
    /// A minimal HTTP CONNECT proxy: "CONNECT host:443" for one of <see cref="Hosts"/> is answered 200, TLS is ended with
    /// <paramref name="certificate"/>, and the plain bytes go both ways to the fake's Kestrel. Anything else: 403, closed.
    /// </summary>
    private sealed class TlsProxy(X509Certificate2 certificate, Func<Uri> upstream) : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stopping = new();

        public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

        public void Start()
        {
            _listener.Start();
            _ = Task.Run(AcceptAsync);
        }

        private async Task AcceptAsync()
        {
            while (!_stopping.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stopping.Token); }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
                _ = Task.Run(() => TunnelAsync(client));
            }
        }

        private async Task TunnelAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var head = await ReadHeadAsync(stream);
                    var target = head.Split(' ') is ["CONNECT", var authority, ..] ? authority : "";
                    if (!Hosts.Any(h => target == $"{h}:443"))
                    {
                        await stream.WriteAsync("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), _stopping.Token);
                        return;
                    }
                    await stream.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), _stopping.Token);
                    await using var tls = new SslStream(stream);
                    await tls.AuthenticateAsServerAsync(certificate);
                    using var server = new TcpClient();
                    var fake = upstream();
                    await server.ConnectAsync(fake.Host, fake.Port, _stopping.Token);
                    var plain = server.GetStream();
                    await Task.WhenAny(tls.CopyToAsync(plain, _stopping.Token), plain.CopyToAsync(tls, _stopping.Token));
                }
                catch (Exception e) when (e is IOException or SocketException or AuthenticationException or OperationCanceledException or ObjectDisposedException)
                {
                    // The client or the test went away: the tunnel ends with it.
                }
            }
        }

        /// <summary>The request head up to the blank line, read byte by byte so nothing of the TLS handshake is consumed.</summary>
        private async Task<string> ReadHeadAsync(NetworkStream stream)
        {
            var head = new StringBuilder();
            var one = new byte[1];
            while (head.Length < 8192 && !head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await stream.ReadAsync(one, _stopping.Token) == 0) break;
                head.Append((char)one[0]);
            }
            return head.ToString();
        }

        public void Dispose()
        {
            _stopping.Cancel();
            _listener.Stop();
        }
    }

    /// <summary>
    /// <paramref name="user"/> approves at Google's authorize endpoint (the challenge's <paramref name="authorizeLocation"/>):
    /// the URL Google sends the browser back to, with a code bound to the request's client, redirect_uri, nonce and PKCE.
    /// </summary>
    public Uri ApproveAtGoogle(Uri authorizeLocation, FakeOidcUser user)
    {
        var query = QueryHelpers.ParseQuery(authorizeLocation.Query);
        var code = "4/0A" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));
        _codes[code] = (user, query["client_id"].ToString(), query["redirect_uri"].ToString(), query["nonce"].ToString(), query["code_challenge"].ToString());
        return new Uri(QueryHelpers.AddQueryString(query["redirect_uri"].ToString(), new Dictionary<string, string?>
        {
            ["state"] = query["state"], ["code"] = code, ["scope"] = "email profile openid", ["authuser"] = "0", ["prompt"] = "consent",
        }));
    }

    private ScriptedResponse GoogleToken(PlatformRequest request)
    {
        var token = TokenRequest.Of(request.Body, request.Context);
        string? Field(string name) => token.Field(name);
        var (id, secret) = (token.ClientId, token.ClientSecret);
        if (Field("code") is not { } code || !_codes.TryRemove(code, out var issued) || issued.ClientId != id || string.IsNullOrEmpty(secret)
            || Field("redirect_uri") != issued.RedirectUri || Field("code_verifier") is not { } verifier
            || Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) != issued.Challenge)
            return new ScriptedResponse(400, """{"error":"invalid_grant","error_description":"Bad Request"}""");
        var accessToken = "ya29." + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));
        _tokens[accessToken] = issued.User;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var idToken = Sign(new JsonObject
        {
            ["iss"] = "https://accounts.google.com", ["azp"] = issued.ClientId, ["aud"] = issued.ClientId, ["sub"] = issued.User.Subject,
            ["email"] = issued.User.Email, ["email_verified"] = issued.User.EmailVerified, ["nonce"] = issued.Nonce, ["name"] = issued.User.Name,
            ["iat"] = now, ["exp"] = now + 3599,
        });
        return Json(new JsonObject
        {
            ["access_token"] = accessToken, ["expires_in"] = 3599, ["scope"] = "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
            ["token_type"] = "Bearer", ["id_token"] = idToken,
        }.ToJsonString());
    }

    private ScriptedResponse GoogleUserInfo(PlatformRequest request)
    {
        var authorization = request.Context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.TryGetValue(authorization[7..], out var user))
            return new ScriptedResponse(401, """{"error":"invalid_request","error_description":"Invalid Credentials"}""", "application/json; charset=utf-8",
                HeaderMap(("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"")));
        return Json(new JsonObject { ["sub"] = user.Subject, ["name"] = user.Name, ["email"] = user.Email, ["email_verified"] = user.EmailVerified }.ToJsonString());
    }

    private string Sign(JsonObject claims)
    {
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"RS256","kid":"{{GoogleKeyId}}","typ":"JWT"}"""));
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{payload}.{Base64Url.EncodeToString(signature)}";
    }

    private string Keys(string keyId)
    {
        var parameters = _key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = keyId,
                ["n"] = Base64Url.EncodeToString(parameters.Modulus), ["e"] = Base64Url.EncodeToString(parameters.Exponent),
            }),
        }.ToJsonString();
    }

    // https://accounts.google.com/.well-known/openid-configuration
    private const string GoogleDiscovery = """
        {
         "issuer": "https://accounts.google.com",
         "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
         "device_authorization_endpoint": "https://oauth2.googleapis.com/device/code",
         "token_endpoint": "https://oauth2.googleapis.com/token",
         "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
         "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
         "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
         "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"],
         "response_modes_supported": ["query", "fragment", "form_post"],
         "subject_types_supported": ["public"],
         "id_token_signing_alg_values_supported": ["RS256"],
         "scopes_supported": ["openid", "email", "profile"],
         "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
         "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"],
         "code_challenge_methods_supported": ["plain", "S256"],
         "grant_types_supported": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"]
        }
        """;

    // https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration
    private const string MicrosoftCommonDiscovery = """
        {"token_endpoint":"https://login.microsoftonline.com/common/oauth2/v2.0/token","token_endpoint_auth_methods_supported":["client_secret_post","private_key_jwt","client_secret_basic"],"jwks_uri":"https://login.microsoftonline.com/common/discovery/v2.0/keys","response_modes_supported":["query","fragment","form_post"],"subject_types_supported":["pairwise"],"id_token_signing_alg_values_supported":["RS256"],"response_types_supported":["code","id_token","code id_token","id_token token"],"scopes_supported":["openid","profile","email","offline_access"],"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","request_uri_parameter_supported":false,"userinfo_endpoint":"https://graph.microsoft.com/oidc/userinfo","authorization_endpoint":"https://login.microsoftonline.com/common/oauth2/v2.0/authorize","device_authorization_endpoint":"https://login.microsoftonline.com/common/oauth2/v2.0/devicecode","http_logout_supported":true,"frontchannel_logout_supported":true,"end_session_endpoint":"https://login.microsoftonline.com/common/oauth2/v2.0/logout","claims_supported":["sub","iss","cloud_instance_name","cloud_instance_host_name","cloud_graph_host_name","msgraph_host","aud","exp","iat","auth_time","acr","nonce","preferred_username","name","tid","ver","at_hash","c_hash","email"],"kerberos_endpoint":"https://login.microsoftonline.com/common/kerberos","cloud_instance_name":"microsoftonline.com","cloud_graph_host_name":"graph.windows.net","msgraph_host":"graph.microsoft.com","rbac_url":"https://pas.windows.net"}
        """;

    private static ScriptedResponse Json(string body) => new(200, body, "application/json; charset=utf-8");

    /// <summary>Stops the proxy (the server itself stops with <see cref="FakePlatformServer.DisposeAsync"/>).</summary>
    public void Dispose()
    {
        _proxy.Dispose();
        _key.Dispose();
        Certificate.Dispose();
    }
}
