using System.Net;
using System.Text;
using System.Text.Json;

namespace Dovecote.Tests.OAuth;

/// <summary>Reads discovery documents as a client does: GET, expect 200 JSON.</summary>
internal static class Discovery
{
    public static async Task<JsonElement> GetJsonAsync(HttpClient http, string url, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        configure?.Invoke(request);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static string[] Strings(JsonElement json, string property) =>
        json.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(v => v.GetString()!)]
            : throw new Xunit.Sdk.XunitException($"'{property}' is missing or not an array in {json}");
}

/// <summary>Discovery metadata and the /mcp challenge; nested so one filter on "DiscoveryTests" runs them all.</summary>
public static class DiscoveryTests
{
    /// <summary>RFC 8414 / RFC 9728 metadata and the /mcp challenge, on a server whose public URL is its loopback address.</summary>
    public sealed class AtLoopback(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
    {
        private static CancellationToken Ct => TestContext.Current.CancellationToken;

        [Theory]
        [InlineData("/.well-known/oauth-authorization-server")]
        [InlineData("/.well-known/openid-configuration")]
        public async Task Authorization_server_metadata_names_the_exact_issuer_and_what_mcp_clients_need(string path)
        {
            using var http = new HttpClient();
            var metadata = await Discovery.GetJsonAsync(http, api.BaseUrl + path);

            Assert.False(api.BaseUrl.EndsWith('/'));
            Assert.Equal(api.BaseUrl, metadata.GetProperty("issuer").GetString());
            Assert.Equal($"{api.BaseUrl}/authorize", metadata.GetProperty("authorization_endpoint").GetString());
            Assert.Equal($"{api.BaseUrl}/token", metadata.GetProperty("token_endpoint").GetString());
            Assert.Equal($"{api.BaseUrl}/revoke", metadata.GetProperty("revocation_endpoint").GetString());
            Assert.Equal($"{api.BaseUrl}/register", metadata.GetProperty("registration_endpoint").GetString());
            Assert.StartsWith(api.BaseUrl + "/", metadata.GetProperty("jwks_uri").GetString());
            Assert.Equal(["S256"], Discovery.Strings(metadata, "code_challenge_methods_supported"));
            var authMethods = Discovery.Strings(metadata, "token_endpoint_auth_methods_supported");
            Assert.Superset(new HashSet<string> { "none", "client_secret_post", "client_secret_basic" }, authMethods.ToHashSet());
            Assert.True(metadata.GetProperty("client_id_metadata_document_supported").GetBoolean());
            Assert.Equal(["dovecote:env:read", "dovecote:notify", "offline_access"], Discovery.Strings(metadata, "scopes_supported").Order());
        }

        [Fact]
        public async Task Both_discovery_documents_are_the_same_document()
        {
            using var http = new HttpClient();
            var oauth = await Discovery.GetJsonAsync(http, api.BaseUrl + "/.well-known/oauth-authorization-server");
            var openid = await Discovery.GetJsonAsync(http, api.BaseUrl + "/.well-known/openid-configuration");
            foreach (var property in new[] { "issuer", "authorization_endpoint", "token_endpoint", "registration_endpoint", "jwks_uri" })
                Assert.Equal(oauth.GetProperty(property).GetString(), openid.GetProperty(property).GetString());
            Assert.Equal(Discovery.Strings(oauth, "scopes_supported").Order(), Discovery.Strings(openid, "scopes_supported").Order());
        }

        [Theory]
        [InlineData("/.well-known/oauth-protected-resource")]
        [InlineData("/.well-known/oauth-protected-resource/mcp")]
        public async Task Protected_resource_metadata_names_mcp_and_the_issuer_string_exactly(string path)
        {
            using var http = new HttpClient();
            var prm = await Discovery.GetJsonAsync(http, api.BaseUrl + path);
            var issuer = (await Discovery.GetJsonAsync(http, api.BaseUrl + "/.well-known/oauth-authorization-server")).GetProperty("issuer").GetString();

            Assert.Equal($"{api.BaseUrl}/mcp", prm.GetProperty("resource").GetString());
            // Clients compare these strings byte for byte (RFC 8414 §3.3): a trailing slash on either side breaks them.
            Assert.Equal([issuer!], Discovery.Strings(prm, "authorization_servers"));
            Assert.Equal([api.BaseUrl], Discovery.Strings(prm, "authorization_servers"));
            Assert.Equal(["dovecote:env:read", "dovecote:notify"], Discovery.Strings(prm, "scopes_supported").Order());
            Assert.Equal(["header"], Discovery.Strings(prm, "bearer_methods_supported"));
        }

        [Fact]
        public async Task Mcp_without_a_token_answers_401_pointing_at_the_resource_metadata()
        {
            var result = await api.CallToolRawAsync(bearer: null, "list_channels");

            Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
            Assert.Equal(
                $"Bearer resource_metadata=\"{api.BaseUrl}/.well-known/oauth-protected-resource/mcp\", scope=\"dovecote:notify\"",
                result.WwwAuthenticate);
        }

        [Fact]
        public async Task Mcp_with_a_bad_token_answers_401_with_the_same_challenge()
        {
            var result = await api.CallToolRawAsync(bearer: "not-a-real-token", "list_channels");

            Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
            Assert.Contains($"resource_metadata=\"{api.BaseUrl}/.well-known/oauth-protected-resource/mcp\"", result.WwwAuthenticate);
            Assert.Contains("scope=\"dovecote:notify\"", result.WwwAuthenticate);
            Assert.StartsWith("Bearer ", result.WwwAuthenticate);
        }
    }

    /// <summary>
    /// Behind a TLS-terminating proxy (DOVECOTE_PUBLIC_URL=https://notify.example.test, Kestrel on http loopback): the
    /// metadata speaks https, and the token endpoint refuses a request that did not arrive over https.
    /// </summary>
    public sealed class BehindTlsProxy(ProxiedOAuthApiFixture api) : IClassFixture<ProxiedOAuthApiFixture>
    {
        private const string Origin = ProxiedOAuthApiFixture.PublicOrigin;
        private static CancellationToken Ct => TestContext.Current.CancellationToken;

        private static void ThroughProxy(HttpRequestMessage request)
        {
            request.Headers.Host = new Uri(Origin).Host;
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        }

        [Theory]
        [InlineData("/.well-known/oauth-authorization-server")]
        [InlineData("/.well-known/openid-configuration")]
        public async Task Authorization_server_metadata_uses_the_https_public_url(string path)
        {
            using var http = new HttpClient();
            var metadata = await Discovery.GetJsonAsync(http, api.BaseUrl + path, ThroughProxy);

            Assert.Equal(Origin, metadata.GetProperty("issuer").GetString());
            Assert.Equal($"{Origin}/authorize", metadata.GetProperty("authorization_endpoint").GetString());
            Assert.Equal($"{Origin}/token", metadata.GetProperty("token_endpoint").GetString());
            Assert.Equal($"{Origin}/register", metadata.GetProperty("registration_endpoint").GetString());
            Assert.StartsWith(Origin + "/", metadata.GetProperty("jwks_uri").GetString());
        }

        [Theory]
        [InlineData("/.well-known/oauth-protected-resource")]
        [InlineData("/.well-known/oauth-protected-resource/mcp")]
        public async Task Protected_resource_metadata_uses_the_https_public_url(string path)
        {
            using var http = new HttpClient();
            var prm = await Discovery.GetJsonAsync(http, api.BaseUrl + path, ThroughProxy);

            Assert.Equal($"{Origin}/mcp", prm.GetProperty("resource").GetString());
            Assert.Equal([Origin], Discovery.Strings(prm, "authorization_servers"));
        }

        [Fact]
        public async Task The_mcp_challenge_points_at_the_https_resource_metadata()
        {
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, api.BaseUrl + "/mcp")
            {
                Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Accept.ParseAdd("application/json, text/event-stream");
            ThroughProxy(request);
            using var response = await http.SendAsync(request, Ct);

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal($"Bearer resource_metadata=\"{Origin}/.well-known/oauth-protected-resource/mcp\", scope=\"dovecote:notify\"",
                response.Headers.WwwAuthenticate.ToString());
        }

        /// <summary>A code exchange at /token for a client that does not exist.</summary>
        private HttpRequestMessage BogusCodeExchange() => new(HttpMethod.Post, api.BaseUrl + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["client_id"] = "anyone",
                ["code"] = "whatever",
                ["code_verifier"] = "whatever",
                ["redirect_uri"] = "https://claude.ai/api/mcp/auth_callback",
            }),
        };

        [Fact]
        public async Task The_token_endpoint_refuses_plain_http_without_x_forwarded_proto()
        {
            using var http = new HttpClient();
            using var request = BogusCodeExchange();
            request.Headers.Host = new Uri(Origin).Host;
            using var response = await http.SendAsync(request, Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"POST /token over http: {(int)response.StatusCode} {body}");
            var json = JsonDocument.Parse(body).RootElement;
            Assert.Equal("invalid_request", json.GetProperty("error").GetString());
            // OpenIddict's transport-security check (ID2083), as the server words it.
            Assert.Equal("This server only accepts HTTPS requests.", json.GetProperty("error_description").GetString());
        }

        [Fact]
        public async Task The_same_token_request_through_the_proxy_reaches_the_grant_checks()
        {
            // Control for the test above: with X-Forwarded-Proto the transport check passes and the (bogus) client is what fails.
            using var http = new HttpClient();
            using var request = BogusCodeExchange();
            ThroughProxy(request);
            using var response = await http.SendAsync(request, Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);

            var json = JsonDocument.Parse(body).RootElement;
            Assert.NotEqual("invalid_request", json.GetProperty("error").GetString());
            Assert.DoesNotContain("HTTPS", json.TryGetProperty("error_description", out var d) ? d.GetString() : "");
        }
    }
}
