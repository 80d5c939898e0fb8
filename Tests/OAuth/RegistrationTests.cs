using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dovecote.Tests.OAuth;

/// <summary>Client metadata shaped like the clients Dovecote must serve, and the token request each one makes.</summary>
internal static class Clients
{
    public const string ClaudeAiCallback = "https://claude.ai/api/mcp/auth_callback";
    public const string ClaudeComCallback = "https://claude.com/api/mcp/auth_callback";
    public const string Scope = $"{OAuthApiFixture.NotifyScope} {OAuthApiFixture.OfflineScope}";

    /// <summary>What Claude.ai sends to /register: a confidential web client with its two callbacks.</summary>
    public static JsonObject ClaudeAi(string authMethod = "client_secret_post") => new()
    {
        ["client_name"] = "Claude",
        ["redirect_uris"] = new JsonArray(ClaudeAiCallback, ClaudeComCallback),
        ["grant_types"] = new JsonArray("authorization_code", "refresh_token"),
        ["response_types"] = new JsonArray("code"),
        ["token_endpoint_auth_method"] = authMethod,
        ["scope"] = OAuthApiFixture.NotifyScope,
    };

    /// <summary>What Claude Code sends: a public client on a loopback callback.</summary>
    public static JsonObject ClaudeCode(string redirectUri) => new()
    {
        ["client_name"] = "Claude Code (dovecote)",
        ["redirect_uris"] = new JsonArray(redirectUri),
        ["grant_types"] = new JsonArray("authorization_code", "refresh_token"),
        ["response_types"] = new JsonArray("code"),
        ["token_endpoint_auth_method"] = "none",
    };

    public static RegisteredClient Parse(string body)
    {
        var json = JsonDocument.Parse(body).RootElement.Clone();
        return new RegisteredClient(json.GetProperty("client_id").GetString()!,
            json.TryGetProperty("client_secret", out var secret) ? secret.GetString() : null, json);
    }

    /// <summary>POST /token for an authorization code, with the client credentials sent as <paramref name="authMethod"/>.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Json)> RedeemAsync(string tokenEndpoint, string authMethod, string clientId,
        string? secret, string code, string verifier, string redirectUri)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["code_verifier"] = verifier,
            ["redirect_uri"] = redirectUri,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint);
        switch (authMethod)
        {
            case "client_secret_basic":
                // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
                var credentials = $"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret!)}";
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
                break;
            case "client_secret_post":
                form["client_id"] = clientId;
                form["client_secret"] = secret!;
                break;
            default:
                form["client_id"] = clientId;
                break;
        }
        request.Content = new FormUrlEncodedContent(form);
        using var http = new HttpClient();
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        try
        {
            return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"POST /token answered {(int)response.StatusCode} with non-JSON: {body}");
        }
    }

    public static void AssertTokens(HttpStatusCode status, JsonElement json)
    {
        Assert.True(status == HttpStatusCode.OK, $"POST /token: {(int)status} {json}");
        Assert.False(string.IsNullOrEmpty(json.GetProperty("access_token").GetString()));
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString(), ignoreCase: true);
        Assert.False(string.IsNullOrEmpty(json.GetProperty("refresh_token").GetString()));
    }
}

/// <summary>Client registration (RFC 7591), open and closed; nested so one filter on "RegistrationTests" runs them all.</summary>
public static class RegistrationTests
{
    /// <summary>RFC 7591 registration on an open server: Claude.ai and Claude Code shapes, then their code flows; refusals; audit.</summary>
    public sealed class OpenServer(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
    {
        private static CancellationToken Ct => TestContext.Current.CancellationToken;

        [Theory]
        [InlineData("client_secret_post")]
        [InlineData("client_secret_basic")]
        public async Task A_claude_ai_shaped_client_registers_and_completes_the_code_flow_with_its_secret(string authMethod)
        {
            var client = await api.RegisterClientAsync(Clients.ClaudeAi(authMethod));

            Assert.StartsWith("dvc-", client.ClientId);
            Assert.False(string.IsNullOrEmpty(client.ClientSecret));
            Assert.Equal(0, client.Json.GetProperty("client_secret_expires_at").GetInt64());
            Assert.True(client.Json.GetProperty("client_id_issued_at").GetInt64() > 1_600_000_000);
            Assert.Equal(authMethod, client.Json.GetProperty("token_endpoint_auth_method").GetString());
            Assert.Equal(
                [Clients.ClaudeAiCallback, Clients.ClaudeComCallback],
                client.Json.GetProperty("redirect_uris").EnumerateArray().Select(u => u.GetString()));
            Assert.Equal(["authorization_code", "refresh_token"], client.Json.GetProperty("grant_types").EnumerateArray().Select(u => u.GetString()));
            Assert.Equal(["code"], client.Json.GetProperty("response_types").EnumerateArray().Select(u => u.GetString()));
            Assert.Equal("Claude", client.Json.GetProperty("client_name").GetString());

            var pkce = Pkce.Create();
            using var browser = api.NewConsentDriver();
            var redirect = await browser.AuthorizeAsync(api.AuthorizeUri(client.ClientId, Clients.ClaudeComCallback, Clients.Scope, "st-claude", pkce),
                OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword, Ct);
            Assert.StartsWith(Clients.ClaudeComCallback + "?", redirect.Location.ToString());
            Assert.Equal("st-claude", redirect.State);
            Assert.Equal(api.BaseUrl, redirect.Iss);
            Assert.NotNull(redirect.Code);

            var (status, tokens) = await Clients.RedeemAsync(
                $"{api.BaseUrl}/token",
                authMethod,
                client.ClientId,
                client.ClientSecret,
                redirect.Code!,
                pkce.Verifier,
                Clients.ClaudeComCallback);
            Clients.AssertTokens(status, tokens);

            var call = await api.CallToolRawAsync(tokens.GetProperty("access_token").GetString(), "list_channels");
            Assert.True(call.Status == HttpStatusCode.OK, $"list_channels: {(int)call.Status} {call.Body}");
            Assert.Contains(OAuthApiFixture.SeededChannel, call.Body);
        }

        [Theory]
        [InlineData("client_secret_post")]
        [InlineData("client_secret_basic")]
        [InlineData("none")]
        public async Task A_confidential_client_with_a_wrong_or_missing_secret_is_refused_at_the_token_endpoint(string sentAs)
        {
            var client = await api.RegisterClientAsync(Clients.ClaudeAi());
            var pkce = Pkce.Create();
            using var browser = api.NewConsentDriver();
            var redirect = await browser.AuthorizeAsync(api.AuthorizeUri(client.ClientId, Clients.ClaudeAiCallback, Clients.Scope, "st", pkce),
                OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword, Ct);

            var (status, json) = await Clients.RedeemAsync(
                $"{api.BaseUrl}/token",
                sentAs,
                client.ClientId,
                "wrong-" + client.ClientSecret,
                redirect.Code!,
                pkce.Verifier,
                Clients.ClaudeAiCallback);

            Assert.True(status is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest, $"POST /token with a wrong secret: {(int)status} {json}");
            Assert.Equal("invalid_client", json.GetProperty("error").GetString());
            Assert.False(json.TryGetProperty("access_token", out _));
        }

        [Fact]
        public async Task A_public_loopback_client_may_come_back_on_another_port()
        {
            var registeredPort = FreePorts.Next();
            var client = await api.RegisterClientAsync(Clients.ClaudeCode($"http://127.0.0.1:{registeredPort}/callback"));
            Assert.Null(client.ClientSecret);
            Assert.Equal("none", client.Json.GetProperty("token_endpoint_auth_method").GetString());

            var otherPort = registeredPort == 65535 ? registeredPort - 1 : registeredPort + 1;
            var redirectUri = $"http://127.0.0.1:{otherPort}/callback";
            var pkce = Pkce.Create();
            using var browser = api.NewConsentDriver();
            var redirect = await browser.AuthorizeAsync(api.AuthorizeUri(client.ClientId, redirectUri, Clients.Scope, "st-code", pkce),
                OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword, Ct);
            Assert.StartsWith(redirectUri + "?", redirect.Location.ToString());

            var tokens = await api.RedeemCodeAsync(client.ClientId, redirect.Code!, pkce.Verifier, redirectUri);
            Assert.False(string.IsNullOrEmpty(tokens.GetProperty("access_token").GetString()));
        }

        [Theory]
        [InlineData("http://127.0.0.1:{port}/other")]      // another path
        [InlineData("http://localhost:{port}/callback")]   // another (loopback) host
        [InlineData("http://192.0.2.10:{port}/callback")]  // not loopback at all
        [InlineData("https://127.0.0.1:{port}/callback")]  // another scheme
        public async Task A_loopback_client_may_not_change_path_host_or_scheme(string template)
        {
            var port = FreePorts.Next();
            var client = await api.RegisterClientAsync(Clients.ClaudeCode($"http://127.0.0.1:{port}/callback"));
            using var browser = api.NewConsentDriver();

            var page = await browser.GetAuthorizePageAsync(
                api.AuthorizeUri(client.ClientId, template.Replace("{port}", port.ToString()), Clients.Scope, "st", Pkce.Create()),
                Ct);

            Assert.True(page.Status == HttpStatusCode.BadRequest, $"{(int)page.Status}: {page.Html}");
            Assert.Null(page.Response.Headers.Location);
            Assert.Null(page.Form);
            Assert.Contains("redirect_uri", page.Alert ?? page.Html);
        }

        [Fact]
        public async Task A_registration_is_audited_with_its_client_id()
        {
            var client = await api.RegisterClientAsync(Clients.ClaudeAi());

            using var response = await api.Admin.GetAsync("/admin/audit", Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /admin/audit: {(int)response.StatusCode} {body}");
            var events = JsonDocument.Parse(body).RootElement.EnumerateArray().ToList();
            var registered = Assert.Single(events, e => e.GetProperty("action").GetString() == "oauth.client.register"
                                                         && e.GetProperty("target").GetString() == client.ClientId);
            Assert.DoesNotContain(client.ClientSecret!, registered.GetRawText());
            Assert.DoesNotContain(client.ClientSecret!, body);
        }

        [Fact]
        public async Task Bootstrap_is_refused_while_registration_is_open()
        {
            using var response = await api.Admin.PostAsync("/admin/bootstrap-client",
                new StringContent(Clients.ClaudeAi().ToJsonString(), Encoding.UTF8, "application/json"), Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);

            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"POST /admin/bootstrap-client: {(int)response.StatusCode} {body}");
            Assert.Equal("bootstrap_disabled", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        }
    }

    /// <summary>Refused metadata (each refusal counts against the per-address limit, so these run on their own server).</summary>
    public sealed class Refusals(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
    {
        private static CancellationToken Ct => TestContext.Current.CancellationToken;

        public static TheoryData<string, string, string> RefusedMetadata() => new()
        {
            { """{"redirect_uris":["http://app.example.com/callback"],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri", "https" },
            { """{"redirect_uris":["javascript:alert(1)"],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri", "javascript" },
            { """{"redirect_uris":["https://app.example.com/callback#frag"],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri", "fragment" },
            { """{"redirect_uris":["https://user:pw@app.example.com/callback"],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri", "user" },
            { """{"redirect_uris":["/callback"],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri", "/callback" },
            { $$"""{"redirect_uris":[{{string.Join(",", Enumerable.Range(1, 11).Select(i => $"\"https://app.example.com/cb{i}\""))}}],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri", "10" },
            { """{"redirect_uris":[],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri", "redirect_uris" },
            { """{"client_name":"no redirects","token_endpoint_auth_method":"none"}""", "invalid_redirect_uri", "redirect_uris" },
            { """{"redirect_uris":["https://app.example.com/callback"],"token_endpoint_auth_method":"private_key_jwt"}""", "invalid_client_metadata", "token_endpoint_auth_method" },
            { """{"redirect_uris":["https://app.example.com/callback"],"token_endpoint_auth_method":"none","grant_types":["implicit"]}""", "invalid_client_metadata", "implicit" },
            { """{"redirect_uris":["https://app.example.com/callback"],"token_endpoint_auth_method":"none","grant_types":["client_credentials"]}""", "invalid_client_metadata", "client_credentials" },
            { """{"redirect_uris":["https://app.example.com/callback"],"token_endpoint_auth_method":"none","response_types":["token"]}""", "invalid_client_metadata", "code" },
            { """{"redirect_uris":["https://app.example.com/callback"],"token_endpoint_auth_method":"none","scope":"openid admin"}""", "invalid_client_metadata", "scope" },
            { """{"redirect_uris": ["https://app.example.com/callback"] """, "invalid_client_metadata", "JSON" },
            { "not json at all", "invalid_client_metadata", "JSON" },
            { "", "invalid_client_metadata", "JSON" },
            { "null", "invalid_client_metadata", "JSON" },
            // Bounds: each field, each list and the whole body, so one client cannot cost the store hundreds of KiB.
            { $$"""{"redirect_uris":["https://app.example.com/{{new string('a', 2030)}}"],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri", "at most 2048" },
            { $$"""{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none","client_name":"{{new string('n', 101)}}"}""", "invalid_client_metadata", "client_name must be at most 100" },
            { $$"""{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none","scope":"{{new string('s', 2049)}}"}""", "invalid_client_metadata", "scope must be at most 2048" },
            { $$"""{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none","logo_uri":"https://x.example/{{new string('l', 2040)}}"}""", "invalid_client_metadata", "logo_uri must be at most 2048" },
            { """{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none","contacts":["a@x","b@x","c@x","d@x","e@x","f@x"]}""", "invalid_client_metadata", "contacts must have at most 5" },
            { $$"""{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none","grant_types":[{{string.Join(",", Enumerable.Repeat("\"refresh_token\"", 11))}}]}""", "invalid_client_metadata", "grant_types must have at most 10" },
            { $$"""{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none","padding":"{{new string('p', 17 * 1024)}}"}""", "invalid_client_metadata", "at most 16 KiB" },
        };

        /// <summary>A body sent chunked, with no Content-Length, so only counting the bytes read can bound it.</summary>
        private sealed class ChunkedContent(byte[] bytes) : HttpContent
        {
            protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
            {
                foreach (var piece in bytes.Chunk(1024)) await stream.WriteAsync(piece);
            }

            protected override bool TryComputeLength(out long length)
            {
                length = 0;
                return false;
            }
        }

        [Theory]
        [InlineData(15 * 1024, HttpStatusCode.Created)]
        [InlineData(64 * 1024, HttpStatusCode.BadRequest)]
        public async Task A_chunked_body_is_bounded_by_the_bytes_read(int padding, HttpStatusCode expected)
        {
            var metadata = Clients.ClaudeCode("http://127.0.0.1:5555/callback");
            metadata["padding"] = new string('p', padding);
            using var content = new ChunkedContent(Encoding.UTF8.GetBytes(metadata.ToJsonString()));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var http = new HttpClient();
            using var response = await http.PostAsync($"{api.BaseUrl}/register", content, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);

            Assert.True(response.StatusCode == expected, $"POST /register chunked, {padding} bytes of padding: {(int)response.StatusCode} {text}");
            if (expected == HttpStatusCode.BadRequest) Assert.Contains("at most 16 KiB", text);
        }

        [Theory]
        [MemberData(nameof(RefusedMetadata))]
        public async Task Bad_metadata_is_refused_with_400_and_a_readable_reason(string body, string error, string descriptionMentions)
        {
            using var http = new HttpClient();
            using var response = await http.PostAsync($"{api.BaseUrl}/register", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"POST /register {body}: {(int)response.StatusCode} {text}");
            var json = JsonDocument.Parse(text).RootElement;
            Assert.Equal(error, json.GetProperty("error").GetString());
            var description = json.GetProperty("error_description").GetString();
            Assert.False(string.IsNullOrWhiteSpace(description));
            Assert.Contains(descriptionMentions, description, StringComparison.OrdinalIgnoreCase);
            Assert.False(json.TryGetProperty("client_id", out _));
        }
    }

    /// <summary>Registration is limited per client address (default 30 a minute); its own server, so no other test is throttled.</summary>
    public sealed class RateLimit(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
    {
        private static CancellationToken Ct => TestContext.Current.CancellationToken;

        [Fact]
        public async Task The_31st_registration_in_a_minute_gets_429_with_retry_after()
        {
            using var http = new HttpClient();
            var body = Clients.ClaudeCode("http://127.0.0.1:5555/callback").ToJsonString();
            var created = 0;
            HttpResponseMessage? limited = null;
            for (var attempt = 0; attempt < 40 && limited is null; attempt++)
            {
                var response = await http.PostAsync($"{api.BaseUrl}/register", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
                if (response.StatusCode == HttpStatusCode.Created) created++;
                else if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
                else Assert.Fail($"POST /register #{attempt + 1}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
                if (limited is null) response.Dispose();
            }

            using (limited)
            {
                Assert.NotNull(limited);
                Assert.Equal(30, created);
                var retryAfter = limited.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("429 without Retry-After (in seconds)");
                Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
                var json = JsonDocument.Parse(await limited.Content.ReadAsStringAsync(Ct)).RootElement;
                Assert.Equal("rate_limited", json.GetProperty("error").GetString());
            }
        }
    }

    /// <summary>ENABLE_CLIENT_BOOTSTRAP=1: /register is closed and only the operator provisions clients.</summary>
    public sealed class ClosedServer(ClosedRegistrationOAuthApiFixture api) : IClassFixture<ClosedRegistrationOAuthApiFixture>
    {
        private static CancellationToken Ct => TestContext.Current.CancellationToken;

        private async Task<HttpResponseMessage> PostBootstrapAsync(JsonObject metadata, string? bearer)
        {
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/admin/bootstrap-client")
            {
                Content = new StringContent(metadata.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            return await http.SendAsync(request, Ct);
        }

        [Fact]
        public async Task Register_answers_403_access_denied()
        {
            using var response = await api.PostRegisterAsync(Clients.ClaudeAi());
            var body = await response.Content.ReadAsStringAsync(Ct);

            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"POST /register: {(int)response.StatusCode} {body}");
            var json = JsonDocument.Parse(body).RootElement;
            Assert.Equal("access_denied", json.GetProperty("error").GetString());
            Assert.Contains("bootstrap-client", json.GetProperty("error_description").GetString());
        }

        [Theory]
        [InlineData("/.well-known/oauth-authorization-server")]
        [InlineData("/.well-known/openid-configuration")]
        public async Task Discovery_advertises_no_registration_endpoint(string path)
        {
            using var http = new HttpClient();
            var metadata = await Discovery.GetJsonAsync(http, api.BaseUrl + path);

            Assert.False(metadata.TryGetProperty("registration_endpoint", out var endpoint), $"registration_endpoint: {endpoint}");
            Assert.Equal(api.BaseUrl, metadata.GetProperty("issuer").GetString());
            // No DOVECOTE_CIMD_ALLOWED_HOSTS: no document can be accepted, so none is advertised.
            Assert.False(metadata.TryGetProperty("client_id_metadata_document_supported", out var cimd), $"client_id_metadata_document_supported: {cimd}");
        }

        [Fact]
        public async Task A_metadata_document_client_gets_the_error_page_and_is_never_fetched()
        {
            await using var site = new ClientMetadataServer();
            await site.StartAsync();
            var redirect = $"http://127.0.0.1:{FreePorts.Next()}/cb";
            site.Serve("/client.json", new JsonObject
            {
                ["client_id"] = site.UrlOf("/client.json"),
                ["client_name"] = "Sneaking in",
                ["redirect_uris"] = new JsonArray(redirect),
                ["token_endpoint_auth_method"] = "none",
            });
            using var browser = api.NewConsentDriver();

            var page = await browser.GetAuthorizePageAsync(api.AuthorizeUri(site.UrlOf("/client.json"), redirect, Clients.Scope, "st", Pkce.Create()), Ct);

            Assert.True(page.Status == HttpStatusCode.BadRequest && page.Form is null, $"GET /authorize: {(int)page.Status}\n{page.Html}");
            Assert.DoesNotContain("Sneaking in", page.Html);
            Assert.Contains("Registration is closed", WebUtility.HtmlDecode(page.Html));
            Assert.Equal(0, site.Hits("/client.json"));
        }

        [Theory]
        [InlineData(null)]
        [InlineData("wrong-admin-token")]
        public async Task Bootstrap_without_the_admin_token_answers_401(string? bearer)
        {
            using var response = await PostBootstrapAsync(Clients.ClaudeAi(), bearer);
            var body = await response.Content.ReadAsStringAsync(Ct);

            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"POST /admin/bootstrap-client: {(int)response.StatusCode} {body}");
            Assert.DoesNotContain("client_id", body);
        }

        [Fact]
        public async Task Bootstrap_refuses_bad_metadata_like_register_does()
        {
            var metadata = Clients.ClaudeAi();
            metadata["redirect_uris"] = new JsonArray("http://app.example.com/callback");
            using var response = await PostBootstrapAsync(metadata, OAuthApiFixture.AdminToken);
            var body = await response.Content.ReadAsStringAsync(Ct);

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"POST /admin/bootstrap-client: {(int)response.StatusCode} {body}");
            Assert.Equal("invalid_redirect_uri", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        }

        [Fact]
        public async Task A_bootstrapped_client_completes_the_code_flow()
        {
            using var response = await PostBootstrapAsync(Clients.ClaudeAi(), OAuthApiFixture.AdminToken);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /admin/bootstrap-client: {(int)response.StatusCode} {body}");
            var client = Clients.Parse(body);
            Assert.False(string.IsNullOrEmpty(client.ClientSecret));
            Assert.Equal(0, client.Json.GetProperty("client_secret_expires_at").GetInt64());
            Assert.Equal("client_secret_post", client.Json.GetProperty("token_endpoint_auth_method").GetString());

            var pkce = Pkce.Create();
            using var browser = api.NewConsentDriver();
            var redirect = await browser.AuthorizeAsync(api.AuthorizeUri(client.ClientId, Clients.ClaudeAiCallback, Clients.Scope, "st-boot", pkce),
                OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword, Ct);
            Assert.StartsWith(Clients.ClaudeAiCallback + "?", redirect.Location.ToString());
            Assert.Equal(api.BaseUrl, redirect.Iss);

            var (status, tokens) = await Clients.RedeemAsync($"{api.BaseUrl}/token", "client_secret_post", client.ClientId, client.ClientSecret,
                redirect.Code!, pkce.Verifier, Clients.ClaudeAiCallback);
            Clients.AssertTokens(status, tokens);

            using var audit = await api.Admin.GetAsync("/admin/audit", Ct);
            var events = JsonDocument.Parse(await audit.Content.ReadAsStringAsync(Ct)).RootElement.EnumerateArray();
            Assert.Contains(
                events,
                e => e.GetProperty("action").GetString() == "oauth.client.register" && e.GetProperty("target").GetString() == client.ClientId);
        }
    }
}
