using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dovecote.Api.Accounts;
using Dovecote.Grains.Interfaces.Accounts;
using Dovecote.Tests.OAuth;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace Dovecote.Tests.Accounts;

/// <summary>
/// The Claude-shaped OAuth flow (register, /authorize, consent, code, token, /mcp) with a person signed in through GitHub:
/// they pick one of their tenants, the grant records their account, and removing them from the tenant kills it.
/// </summary>
public sealed partial class AccountConsentTests(AccountsApiFixture api) : IClassFixture<AccountsApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new GitHub person (own tenant by sign-up) invited into acme, signed in from the consent page itself.</summary>
    private async Task<(ConsentDriver Browser, string Account, ConsentForm Form, RegisteredClient Client, string Redirect, Pkce Pkce)> ConnectingMemberAsync(long githubId)
    {
        var login = $"member-{githubId}";
        api.GitHub.AddUser(githubId, login, $"Member {githubId}", null, AccountsApiFixture.AllowedOrg);
        var account = $"github:{githubId}";
        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/callback";
        var client = await api.RegisterPublicClientAsync(redirect, "Claude");
        var pkce = Pkce.Create();
        var authorize = api.AuthorizeUri(client.ClientId, redirect, $"{OAuthApiFixture.NotifyScope} {OAuthApiFixture.OfflineScope}", "xyz", pkce, api.McpUrl);

        // Not signed in: the consent page offers GitHub (returning here) and the password form.
        var browser = api.NewConsentDriver();
        var anonymous = await browser.GetAuthorizePageAsync(authorize, Ct);
        Assert.Equal(HttpStatusCode.OK, anonymous.Status);
        Assert.NotNull(anonymous.Form!.Fields.GetValueOrDefault("password"));
        var gitHub = WebUtility.HtmlDecode(ProviderLink().Match(anonymous.Html).Groups["href"].Value);
        Assert.StartsWith("/signin/github?returnUrl=%2Fauthorize%3F", gitHub);

        // Sign in first (sign-up gives the person a tenant of their own), then join acme by an invitation link.
        api.GitHub.SignInAs(login);
        var consent = await AccountsApiFixture.FollowAsync(browser, new Uri(new Uri(api.BaseUrl), gitHub));
        Assert.Equal(HttpStatusCode.OK, consent.Status);
        Assert.Equal(account, api.SessionAccount(browser));
        await JoinAsync(browser, OAuthApiFixture.AcmeTenant, TenantRole.Member);

        var page = await browser.GetAuthorizePageAsync(authorize, Ct);
        Assert.Contains($"Signed in as <strong>Member {githubId}</strong>", page.Html);
        Assert.Contains($"<option value=\"{OAuthApiFixture.AcmeTenant}\"", page.Html);
        Assert.Matches($"<option value=\"member-{githubId}-[a-z0-9]{{6}}\"", page.Html);
        Assert.Equal(["allow", "deny"], page.Form!.Decisions);
        Assert.False(page.Form.Fields.ContainsKey("password"));
        return (browser, account, page.Form, client, redirect, pkce);
    }

    private async Task JoinAsync(ConsentDriver browser, string tenant, TenantRole role)
    {
        using var scope = api.Services.CreateScope();
        var (_, link) = await scope.ServiceProvider.GetRequiredService<MemberAdministration>().InviteAsync(tenant, role, "admin");
        var invitation = await browser.GetAuthorizeFormAsync(new Uri(link), Ct);
        using var joined = await browser.SubmitAsync(invitation, null, null, "join", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.Found, joined.StatusCode);
    }

    [Fact]
    public async Task A_signed_in_member_connects_an_app_to_the_tenant_they_pick_and_the_grant_records_their_account()
    {
        var (browser, account, form, client, redirect, pkce) = await ConnectingMemberAsync(810001);
        using (browser)
        {
            using var allowed = await browser.SubmitAsync(form, OAuthApiFixture.AcmeTenant, null, "allow", cancellationToken: Ct);
            Assert.Equal(HttpStatusCode.Found, allowed.StatusCode);
            var code = AuthorizationRedirect.From(allowed.Headers.Location!).Code!;
            var tokens = await api.RedeemCodeAsync(client.ClientId, code, pkce.Verifier, redirect);

            // The token acts for acme: it lists acme's channels.
            var listed = await api.CallToolRawAsync(tokens.GetProperty("access_token").GetString(), "list_channels");
            Assert.Equal(HttpStatusCode.OK, listed.Status);
            Assert.Contains(OAuthApiFixture.AcmeChannel, listed.Body);
            Assert.DoesNotContain(OAuthApiFixture.SeededChannel, listed.Body);

            using var scope = api.Services.CreateScope();
            var authorizations = scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
            var grant = await GrantOfAsync(authorizations, OAuthApiFixture.AcmeTenant, client.ClientId);
            Assert.Equal(account, await GrantAccounts.OfAsync(authorizations, grant, Ct));

            // The tokens' subject is the account, yet their audit lands in the tenant, naming the client and the approver.
            var events = await api.Admin.GetFromJsonAsync<JsonElement>($"/admin/tenants/{OAuthApiFixture.AcmeTenant}/audit", Ct);
            var mine = events.EnumerateArray().Where(e => e.GetProperty("actor").GetString() == $"oauth:{client.ClientId}").ToList();
            Assert.Contains(mine, e => e.GetProperty("action").GetString() == "oauth.token");
            Assert.Contains(mine, e => e.GetProperty("action").GetString() == "oauth.authorize" && e.GetProperty("detail").GetString()!.EndsWith($"approved by {account}"));
        }
    }

    [Fact]
    public async Task A_member_cannot_connect_an_app_to_a_tenant_they_do_not_belong_to()
    {
        var (browser, _, form, client, _, _) = await ConnectingMemberAsync(810002);
        using (browser)
        {
            foreach (var other in new[] { OAuthApiFixture.DefaultTenant, "member-810001-aaaaaa", "no-such-tenant" })
            {
                var refused = await browser.SubmitForPageAsync(form, other, null, "allow", cancellationToken: Ct);
                Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
                Assert.Equal($"You are not a member of tenant '{other}'.", refused.Alert);
                Assert.Null(refused.Response.Headers.Location);
            }
            // Nor by dropping the session marker and posting no password.
            var noPassword = await browser.SubmitForPageAsync(form, OAuthApiFixture.DefaultTenant, null, "allow",
                new Dictionary<string, string?> { ["via"] = null }, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, noPassword.Status);

            using var scope = api.Services.CreateScope();
            var authorizations = scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
            await foreach (var grant in authorizations.FindBySubjectAsync(OAuthApiFixture.DefaultTenant, Ct))
                Assert.NotEqual(client.ClientId, await ClientIdOfAsync(grant));
        }
    }

    [Fact]
    public async Task Removing_a_member_revokes_the_grants_they_approved_in_that_tenant()
    {
        var (browser, account, form, client, redirect, pkce) = await ConnectingMemberAsync(810003);
        using (browser)
        {
            using var allowed = await browser.SubmitAsync(form, OAuthApiFixture.AcmeTenant, null, "allow", cancellationToken: Ct);
            var tokens = await api.RedeemCodeAsync(client.ClientId, AuthorizationRedirect.From(allowed.Headers.Location!).Code!, pkce.Verifier, redirect);
            var accessToken = tokens.GetProperty("access_token").GetString()!;
            Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(accessToken, "list_channels")).Status);

            using (var scope = api.Services.CreateScope())
                Assert.True(await scope.ServiceProvider.GetRequiredService<MemberAdministration>().RemoveAsync(OAuthApiFixture.AcmeTenant, account, "admin", cancellationToken: Ct));

            // Each pod may keep a token's status for a few seconds: wait for the refusal, do not sleep.
            var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
            HttpStatusCode status;
            while ((status = (await api.CallToolRawAsync(accessToken, "list_channels")).Status) == HttpStatusCode.OK && DateTimeOffset.UtcNow < deadline)
                await Task.Delay(100, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            var (refreshStatus, _) = await api.PostTokenAsync(new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token", ["client_id"] = client.ClientId, ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
            });
            Assert.Equal(HttpStatusCode.BadRequest, refreshStatus);

            // acme is gone from the person's tenants, and the consent page no longer offers it.
            var page = await browser.GetAuthorizePageAsync(form.Action.AbsolutePath == "/authorize" ? new Uri(api.BaseUrl + "/authorize?" + Query(form)) : form.Action, Ct);
            Assert.DoesNotContain($"<option value=\"{OAuthApiFixture.AcmeTenant}\"", page.Html);
        }
    }

    private static string Query(ConsentForm form) => string.Join('&', form.Fields
        .Where(f => f.Key is not ("csrf_token" or "via" or "tenant"))
        .Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}"));

    private async Task<object> GrantOfAsync(IOpenIddictAuthorizationManager authorizations, string tenant, string clientId)
    {
        await foreach (var grant in authorizations.FindBySubjectAsync(tenant, Ct))
            if (await ClientIdOfAsync(grant) == clientId) return grant;
        throw new Xunit.Sdk.XunitException($"no grant of {clientId} in {tenant}");
    }

    private async Task<string?> ClientIdOfAsync(object grant)
    {
        using var scope = api.Services.CreateScope();
        var authorizations = scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var applicationId = await authorizations.GetApplicationIdAsync(grant, Ct);
        var application = applicationId is null ? null : await applications.FindByIdAsync(applicationId, Ct);
        return application is null ? null : await applications.GetClientIdAsync(application, Ct);
    }

    [GeneratedRegex("<a class=\"provider\" href=\"(?<href>/signin/github[^\"]*)\"")]
    private static partial Regex ProviderLink();
}
