using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Dovecote.Tests.OAuth;

/// <summary>No grace for a rotated refresh token: any reuse is a replay.</summary>
public sealed class NoRefreshLeewayOAuthApiFixture() : OAuthApiFixture(new OAuthLifetimes(RefreshTokenReuseLeeway: TimeSpan.Zero));

/// <summary>Small sign-in budgets, so guessing hits the limit in a few attempts.</summary>
public sealed class LowSignInLimitOAuthApiFixture : OAuthApiFixture
{
    public const int PerAddress = 3;
    public const int PerTenant = 5;

    protected override IEnumerable<string> ExtraArguments =>
        [$"--OAuth:SignInFailuresPerAddress={PerAddress}", $"--OAuth:SignInFailuresPerTenant={PerTenant}"];
}

public sealed class RefreshReplayTests(NoRefreshLeewayOAuthApiFixture api) : IClassFixture<NoRefreshLeewayOAuthApiFixture>
{
    [Fact]
    public async Task Reusing_a_rotated_refresh_token_after_the_grace_window_revokes_the_whole_grant()
    {
        var session = await api.SignInAsync(OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword);
        var (rotated, fresh) = await api.RefreshAsync(session, session.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, rotated);
        var newAccess = fresh.GetProperty("access_token").GetString()!;
        var newRefresh = fresh.GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(session.RefreshToken, newRefresh);
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(newAccess, "list_channels")).Status);

        var (replayed, error) = await api.RefreshAsync(session, session.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, replayed);
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());

        // The thief and the owner are indistinguishable, so everything the grant issued is dead.
        Assert.Equal(HttpStatusCode.BadRequest, (await api.RefreshAsync(session, newRefresh)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CallToolRawAsync(newAccess, "list_channels")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CallToolRawAsync(session.AccessToken, "list_channels")).Status);
        var grants = await api.Admin.GetFromJsonAsync<JsonElement>(
            $"/admin/tenants/{OAuthApiFixture.DefaultTenant}/grants",
            TestContext.Current.CancellationToken);
        Assert.Equal(
            "revoked",
            grants.EnumerateArray().Single(g => g.GetProperty("client_id").GetString() == session.Client.ClientId).GetProperty("status").GetString());
    }
}

public sealed class RefreshGraceTests(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
{
    [Fact]
    public async Task A_rotated_refresh_token_reused_within_the_grace_window_still_works()
    {
        // A client that lost the refresh response retries with the old token (default leeway 30 s).
        var session = await api.SignInAsync(OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword);
        var (first, _) = await api.RefreshAsync(session, session.RefreshToken);
        var (retry, again) = await api.RefreshAsync(session, session.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal(HttpStatusCode.OK, retry);
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(again.GetProperty("access_token").GetString(), "list_channels")).Status);
    }
}

public sealed class ExpiredTokenTests(ShortLivedTokensOAuthApiFixture api) : IClassFixture<ShortLivedTokensOAuthApiFixture>
{
    [Fact]
    public async Task An_expired_access_token_gets_401_invalid_token()
    {
        var before = DateTimeOffset.UtcNow;
        var session = await api.SignInAsync(OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword);
        // Issued after "before", so it expires no earlier than this; JWT "exp" is whole seconds, truncated, hence the second off.
        var expiresAt = before + api.Lifetimes.AccessToken!.Value - TimeSpan.FromSeconds(1);
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(session.AccessToken, "list_channels")).Status);

        // Waits for the clock, not a guessed sleep: poll until the token's lifetime (plus validation's clock skew) has passed.
        McpHttpResult result;
        var deadline = expiresAt.AddMinutes(1);
        do
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
            result = await api.CallToolRawAsync(session.AccessToken, "list_channels");
        }
        while (result.Status == HttpStatusCode.OK && DateTimeOffset.UtcNow < deadline);

        Assert.True(DateTimeOffset.UtcNow >= expiresAt, "the token was refused before it expired");
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Contains("error=\"invalid_token\"", result.WwwAuthenticate);
    }
}

public sealed class PasswordGuessingTests(LowSignInLimitOAuthApiFixture api) : IClassFixture<LowSignInLimitOAuthApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<ConsentPage> AttemptAsync(string tenant, string password, string? forwardedFor = null)
    {
        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/callback";
        var client = await api.RegisterPublicClientAsync(redirect);
        using var browser = api.NewConsentDriver();
        if (forwardedFor is not null) browser.Headers.Add("X-Forwarded-For", forwardedFor);
        var form = await browser.GetAuthorizeFormAsync(api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "st", Pkce.Create()), Ct);
        return await browser.SubmitForPageAsync(form, tenant, password, "allow", cancellationToken: Ct);
    }

    [Fact]
    public async Task Guessing_from_one_address_is_stopped_even_for_the_right_password()
    {
        const string address = "198.51.100.7"; // via X-Forwarded-For from the loopback proxy, so other tests' attempts don't count
        for (var i = 0; i < LowSignInLimitOAuthApiFixture.PerAddress; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await AttemptAsync(OAuthApiFixture.DefaultTenant, $"wrong-{i}", address)).Status);

        var limited = await AttemptAsync(OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword, address);
        Assert.Equal((HttpStatusCode)429, limited.Status);
        Assert.True(int.Parse(limited.Header("Retry-After")) is > 0 and <= 300);
        Assert.Contains("Too many", limited.Alert);

        // Another address is not affected.
        var other = await AttemptAsync(OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword, "198.51.100.8");
        Assert.Equal(HttpStatusCode.Found, other.Status);
    }

    [Fact]
    public async Task Guessing_one_tenant_from_many_addresses_is_stopped_cluster_wide()
    {
        // A tenant of its own, so the per-tenant budget is this test's alone.
        using (var put = await api.Admin.PutAsJsonAsync("/admin/tenants/guessed", new { displayName = "Guessed", password = "guessed-password-1" }, Ct))
            Assert.True(put.IsSuccessStatusCode);
        for (var i = 0; i < LowSignInLimitOAuthApiFixture.PerTenant; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await AttemptAsync("guessed", $"wrong-{i}", $"203.0.113.{i + 1}")).Status);

        Assert.Equal((HttpStatusCode)429, (await AttemptAsync("guessed", "guessed-password-1", "203.0.113.200")).Status);
        var events = await api.Admin.GetFromJsonAsync<JsonElement>("/admin/tenants/guessed/audit", Ct);
        Assert.Equal(LowSignInLimitOAuthApiFixture.PerTenant, events.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "oauth.signin.failed"));
    }
}
