using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dovecote.Api.Security;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Tests.OAuth;

/// <summary>A signed-in client: its registration, PKCE pair, redirect URI and the token response.</summary>
public sealed record SignedIn(RegisteredClient Client, string RedirectUri, JsonElement Tokens)
{
    public string AccessToken => Tokens.GetProperty("access_token").GetString()!;
    public string RefreshToken => Tokens.GetProperty("refresh_token").GetString()!;
}

public static class OAuthFlows
{
    /// <summary>Registers a public loopback client, consents as <paramref name="tenant"/> and redeems the code.</summary>
    public static async Task<SignedIn> SignInAsync(this OAuthApiFixture api, string tenant, string password, string scope = OAuthApiFixture.NotifyScope)
    {
        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/callback";
        var client = await api.RegisterPublicClientAsync(redirect);
        var pkce = Pkce.Create();
        using var browser = api.NewConsentDriver();
        var result = await browser.AuthorizeAsync(
            api.AuthorizeUri(client.ClientId, redirect, scope, "s-1", pkce),
            tenant,
            password,
            TestContext.Current.CancellationToken);
        Assert.NotNull(result.Code);
        return new SignedIn(client, redirect, await api.RedeemCodeAsync(client.ClientId, result.Code, pkce.Verifier, redirect));
    }

    public static Task<(HttpStatusCode Status, JsonElement Json)> RefreshAsync(this OAuthApiFixture api, SignedIn session, string refreshToken) =>
        api.PostTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = session.Client.ClientId,
            ["refresh_token"] = refreshToken,
        });
}

/// <summary>Attacks on the authorization server and /mcp, each refused.</summary>
public sealed class OAuthAttackTests(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(RegisteredClient Client, string Redirect)> RegisterAsync()
    {
        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/callback";
        return (await api.RegisterPublicClientAsync(redirect), redirect);
    }

    /// <summary>The default tenant signs in and allows: the authorization code the client gets at its redirect URI.</summary>
    private async Task<string> DefaultTenantCodeAsync(ConsentDriver browser, RegisteredClient client, string redirect, Pkce pkce) =>
        (await browser.AuthorizeAsync(api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "st", pkce),
            OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword, Ct)).Code!;

    private static Uri WithQuery(Uri uri, string name, string? value)
    {
        var query = QueryHelpers.ParseQuery(uri.Query).ToDictionary(p => p.Key, p => (string?)p.Value.ToString());
        if (value is null) query.Remove(name); else query[name] = value;
        return new Uri(QueryHelpers.AddQueryString(uri.GetLeftPart(UriPartial.Path), query));
    }

    [Theory]
    [InlineData("missing challenge", null, null)]
    [InlineData("plain method", "plain", "plain-challenge-plain-challenge-plain-challenge-0123")]
    [InlineData("no method (defaults to plain)", "", null)]
    public async Task Authorization_without_an_S256_challenge_is_refused(string attack, string? method, string? challenge)
    {
        var (client, redirect) = await RegisterAsync();
        var uri = api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "st", Pkce.Create());
        uri = WithQuery(uri, "code_challenge_method", string.IsNullOrEmpty(method) ? null : method);
        if (method is null) uri = WithQuery(uri, "code_challenge", null);
        if (challenge is not null) uri = WithQuery(uri, "code_challenge", challenge);

        using var browser = api.NewConsentDriver();
        var page = await browser.GetAuthorizePageAsync(uri, Ct);

        // OpenIddict checks PKCE before it has verified the redirect URI, so it answers here instead of redirecting: no consent form, no code.
        Assert.True(page.Status == HttpStatusCode.BadRequest, $"{attack}: {(int)page.Status} {page.Html}");
        Assert.Null(page.Response.Headers.Location);
        Assert.Null(page.Form);
        Assert.Contains("code_challenge", page.Alert);
    }

    [Fact]
    public async Task A_wrong_code_verifier_is_refused_and_the_right_one_still_cannot_be_replayed()
    {
        var (client, redirect) = await RegisterAsync();
        var pkce = Pkce.Create();
        using var browser = api.NewConsentDriver();
        var code = await DefaultTenantCodeAsync(browser, client, redirect, pkce);

        var (status, json) = await api.PostTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = client.ClientId,
            ["code"] = code,
            ["code_verifier"] = Pkce.Create().Verifier,
            ["redirect_uri"] = redirect,
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_replayed_code_is_refused_and_revokes_what_the_code_issued()
    {
        var (client, redirect) = await RegisterAsync();
        var pkce = Pkce.Create();
        using var browser = api.NewConsentDriver();
        var code = await DefaultTenantCodeAsync(browser, client, redirect, pkce);
        var first = await api.RedeemCodeAsync(client.ClientId, code, pkce.Verifier, redirect);
        var accessToken = first.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(accessToken, "list_channels")).Status);

        var (status, json) = await api.PostTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = client.ClientId,
            ["code"] = code,
            ["code_verifier"] = pkce.Verifier,
            ["redirect_uri"] = redirect,
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        // OAuth 2.1 §4.1.3: a replayed code should revoke the tokens it produced; the grant check at /mcp sees that.
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CallToolRawAsync(accessToken, "list_channels")).Status);
    }

    [Fact]
    public async Task Redirect_uri_mismatches_and_open_redirects_never_redirect()
    {
        var (client, redirect) = await RegisterAsync();
        using var browser = api.NewConsentDriver();
        string[] attempts =
        [
            "https://evil.example/callback",
            redirect.Replace("/callback", "/other"),
            redirect.Replace("127.0.0.1", "localhost"),
            redirect + "?next=https://evil.example",
        ];
        foreach (var attempt in attempts)
        {
            var page = await browser.GetAuthorizePageAsync(api.AuthorizeUri(client.ClientId, attempt, OAuthApiFixture.NotifyScope, "st", Pkce.Create()), Ct);
            Assert.True(page.Status == HttpStatusCode.BadRequest, $"{attempt}: {(int)page.Status}");
            Assert.Null(page.Response.Headers.Location);
            Assert.Null(page.Form);
            Assert.NotNull(page.Alert);
        }

        // A code issued for one redirect URI cannot be redeemed with another.
        var pkce = Pkce.Create();
        var code = await DefaultTenantCodeAsync(browser, client, redirect, pkce);
        var (status, json) = await api.PostTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = client.ClientId,
            ["code"] = code,
            ["code_verifier"] = pkce.Verifier,
            ["redirect_uri"] = redirect.Replace("/callback", "/other"),
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("redirect_uri", "https://evil.example/callback")]
    [InlineData("client_id", "dvc-000000000000000000000000")]
    public async Task The_consent_post_validates_client_and_redirect_again(string field, string forged)
    {
        var (client, redirect) = await RegisterAsync();
        using var browser = api.NewConsentDriver();
        var form = await browser.GetAuthorizeFormAsync(api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "st", Pkce.Create()), Ct);

        // The hidden fields are the request: a page edited before posting is checked like a new request.
        var page = await browser.SubmitForPageAsync(form, OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword, "allow",
            new Dictionary<string, string?> { [field] = forged }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, page.Status);
        Assert.Null(page.Response.Headers.Location);
        Assert.Contains(field, page.Alert);
    }

    [Fact]
    public async Task A_foreign_resource_is_refused_with_invalid_target_and_no_resource_gets_the_mcp_audience()
    {
        var (client, redirect) = await RegisterAsync();
        using var browser = api.NewConsentDriver();
        var page = await browser.GetAuthorizePageAsync(
            api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "st", Pkce.Create(), resource: "https://other.example/mcp"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, page.Status);
        Assert.Null(page.Form);
        Assert.Contains("resource", page.Alert);
        // The token endpoint refuses a foreign resource with the RFC 8707 error code.
        var (status, json) = await api.PostTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = client.ClientId,
            ["refresh_token"] = "unused",
            ["resource"] = "https://other.example/mcp",
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_target", json.GetProperty("error").GetString());

        // With no resource the token is still bound to {public url}/mcp, so /mcp accepts it.
        var session = await api.SignInAsync(OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword);
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(session.AccessToken, "list_channels")).Status);
    }

    [Fact]
    public async Task Tenant_a_token_cannot_reach_tenant_b_channels()
    {
        var acme = await api.SignInAsync(OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword);

        var listed = await api.CallToolRawAsync(acme.AccessToken, "list_channels");
        Assert.Equal(HttpStatusCode.OK, listed.Status);
        var channels = listed.Message!.Value.GetProperty("result").GetProperty("structuredContent").GetProperty("channels");
        Assert.Equal([OAuthApiFixture.AcmeChannel], channels.EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToArray());

        var sent = await api.CallToolRawAsync(
            acme.AccessToken,
            "send_notification",
            new { channel = OAuthApiFixture.SeededChannel, message = "cross-tenant", wait_seconds = 0 });
        var result = sent.Message!.Value.GetProperty("result");
        Assert.True(result.GetProperty("isError").GetBoolean(), sent.Body);
        Assert.Contains("does not exist", sent.Body);
        Assert.DoesNotContain(api.Telegram.Messages, m => m.Text.Contains("cross-tenant"));
    }

    [Fact]
    public async Task Get_env_without_the_env_scope_gets_a_403_step_up()
    {
        var session = await api.SignInAsync(OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword, OAuthApiFixture.NotifyScope);
        var refused = await api.CallToolRawAsync(session.AccessToken, "get_env", new { profile = OAuthApiFixture.EnvProfile });
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Contains("error=\"insufficient_scope\"", refused.WwwAuthenticate);
        Assert.Contains($"scope=\"{OAuthApiFixture.NotifyScope} {OAuthApiFixture.EnvReadScope}\"", refused.WwwAuthenticate);
        Assert.Contains($"resource_metadata=\"{api.BaseUrl}/.well-known/oauth-protected-resource/mcp\"", refused.WwwAuthenticate);
        Assert.DoesNotContain(OAuthApiFixture.EnvValues.Values.First(), refused.Body);

        // Other tools still work with the same token; a token with the scope reads the profile.
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(session.AccessToken, "list_channels")).Status);
        var wider = await api.SignInAsync(
            OAuthApiFixture.DefaultTenant,
            OAuthApiFixture.DefaultPassword,
            $"{OAuthApiFixture.NotifyScope} {OAuthApiFixture.EnvReadScope}");
        var read = await api.CallToolRawAsync(wider.AccessToken, "get_env", new { profile = OAuthApiFixture.EnvProfile });
        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Contains(OAuthApiFixture.EnvValues.Values.First(), read.Body);
    }

    [Fact]
    public async Task An_access_token_is_a_signed_jwt_of_ids_only_and_a_forged_tenant_is_refused()
    {
        var session = await api.SignInAsync(OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword);
        var parts = session.AccessToken.Split('.');
        Assert.Equal(3, parts.Length);
        var header = JsonDocument.Parse(Base64UrlTextEncoder.Decode(parts[0])).RootElement;
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        Assert.Equal("at+jwt", header.GetProperty("typ").GetString());
        var payload = JsonDocument.Parse(Base64UrlTextEncoder.Decode(parts[1])).RootElement;
        Assert.Equal(OAuthApiFixture.AcmeTenant, payload.GetProperty("sub").GetString());
        Assert.Equal($"{api.BaseUrl}/mcp", payload.GetProperty("aud").GetString());
        string[] expected = ["iss", "exp", "iat", "aud", "scope", "jti", "sub", "client_id", "oi_prst", "oi_au_id", "oi_tkn_id", DovecoteClaims.Tenant, DovecoteClaims.Actor, "dovecote_account"];
        Assert.All(payload.EnumerateObject(), claim => Assert.Contains(claim.Name, expected));

        // Another tenant in the payload: the signature no longer matches.
        var forged = JsonSerializer.Serialize(payload.EnumerateObject().ToDictionary(
            c => c.Name,
            c => c.Name is "sub" or "tenant" ? JsonSerializer.SerializeToElement(OAuthApiFixture.DefaultTenant) : c.Value));
        var forgedToken = $"{parts[0]}.{Base64UrlTextEncoder.Encode(System.Text.Encoding.UTF8.GetBytes(forged))}.{parts[2]}";
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CallToolRawAsync(forgedToken, "list_channels")).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(session.AccessToken, "list_channels")).Status);
    }

    [Fact]
    public async Task Admin_revoke_of_one_grant_and_of_a_whole_tenant_makes_the_next_call_401()
    {
        var one = await api.SignInAsync(OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword);
        var other = await api.SignInAsync(OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword);
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(one.AccessToken, "list_channels")).Status);

        var grants = await api.Admin.GetFromJsonAsync<JsonElement>($"/admin/tenants/{OAuthApiFixture.AcmeTenant}/grants", Ct);
        var grant = grants.EnumerateArray().Single(g => g.GetProperty("client_id").GetString() == one.Client.ClientId);
        using (var revoke = await api.Admin.PostAsJsonAsync("/admin/revoke", new { grant_id = grant.GetProperty("grant_id").GetString() }, Ct))
            Assert.Equal(1, (await revoke.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("revoked").GetInt32());

        var refused = await api.CallToolRawAsync(one.AccessToken, "list_channels");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Contains("error=\"invalid_token\"", refused.WwwAuthenticate);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.RefreshAsync(one, one.RefreshToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(other.AccessToken, "list_channels")).Status);

        using (var revokeAll = await api.Admin.PostAsJsonAsync("/admin/revoke", new { tenant = OAuthApiFixture.AcmeTenant }, Ct))
            Assert.True(revokeAll.IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CallToolRawAsync(other.AccessToken, "list_channels")).Status);
        using var bad = await api.Admin.PostAsJsonAsync("/admin/revoke", new { }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Tokens_carry_the_tenant_and_the_audit_trail_names_the_client()
    {
        var session = await api.SignInAsync(OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword);
        await api.CallToolRawAsync(
            session.AccessToken,
            "send_notification",
            new { channel = OAuthApiFixture.AcmeChannel, message = "audited", wait_seconds = 0 });

        var events = await api.Admin.GetFromJsonAsync<JsonElement>($"/admin/tenants/{OAuthApiFixture.AcmeTenant}/audit", Ct);
        var mine = events.EnumerateArray().Where(e => e.GetProperty("actor").GetString() == $"oauth:{session.Client.ClientId}")
            .Select(e => e.GetProperty("action").GetString()).ToList();
        foreach (var action in new[] { "oauth.authorize", "oauth.token", "notification.send" })
            Assert.True(mine.Contains(action), $"no {action} among {string.Join(", ", mine)}");
    }

    [Fact]
    public async Task Revoking_a_refresh_token_at_the_revocation_endpoint_stops_it()
    {
        var session = await api.SignInAsync(OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword);
        using var http = new HttpClient();
        using var revoked = await http.PostAsync($"{api.BaseUrl}/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = session.RefreshToken,
            ["token_type_hint"] = "refresh_token",
            ["client_id"] = session.Client.ClientId,
        }), Ct);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        var (status, json) = await api.RefreshAsync(session, session.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        var events = await api.Admin.GetFromJsonAsync<JsonElement>($"/admin/tenants/{OAuthApiFixture.DefaultTenant}/audit", Ct);
        Assert.Contains(
            events.EnumerateArray(),
            e => e.GetProperty("action").GetString() == "oauth.revoke" && e.GetProperty("target").GetString() == session.Client.ClientId);
    }
}
