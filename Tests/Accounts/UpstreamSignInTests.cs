using System.Net;
using Dovecote.Api.Accounts;
using Dovecote.Api.Audit;
using Dovecote.Grains.Interfaces.Accounts;
using Dovecote.Tests.OAuth;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Dovecote.Tests.Accounts;

/// <summary>Sign-in with GitHub and with an OpenID Connect provider, both fakes on loopback, through OpenIddict's client over real HTTP.</summary>
public sealed class UpstreamSignInTests(AccountsApiFixture api) : IClassFixture<AccountsApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_allowed_GitHub_user_gets_a_session_and_with_sign_up_a_tenant_of_their_own()
    {
        api.GitHub.AddUser(583231, AccountsApiFixture.AllowedLogin, "The Octocat", "octocat@github.example");
        using var browser = await api.SignInWithGitHubAsync(AccountsApiFixture.AllowedLogin);

        Assert.Equal("github:583231", api.SessionAccount(browser));
        var memberships = await api.Services.GetRequiredService<AccountMemberships>().ForAsync(Principal("github:583231"));
        var own = Assert.Single(memberships);
        Assert.Equal(TenantRole.Owner, own.Role);
        Assert.StartsWith("octocat-", own.Tenant);

        // The code was exchanged with the app's credentials, for the callback on Dovecote's own origin.
        Assert.Contains(api.GitHub.Requests, r => r.Path == "/login/oauth/access_token" && r.StatusCode == 200
            && r.Body.Contains("client_secret=" + AccountsApiFixture.GitHubClientSecret)
            && r.Body.Contains("redirect_uri=" + Uri.EscapeDataString($"{api.BaseUrl}/signin/callback/github")));
        Assert.Contains(api.GitHub.Requests, r => r.Path == "/user" && r.Headers.ContainsKey("User-Agent"));

        // Signing in again is the same account and creates no second tenant.
        using var again = await api.SignInWithGitHubAsync(AccountsApiFixture.AllowedLogin);
        Assert.Equal(memberships, await api.Services.GetRequiredService<AccountMemberships>().ForAsync(Principal("github:583231")));
    }

    [Fact]
    public async Task A_member_of_an_allowed_organisation_is_let_in()
    {
        api.GitHub.AddUser(700001, "friend-of-dovecote", null, null, "some-other-org", AccountsApiFixture.AllowedOrg);
        using var browser = await api.SignInWithGitHubAsync("friend-of-dovecote");
        Assert.Equal("github:700001", api.SessionAccount(browser));
        Assert.Contains(api.GitHub.Requests, r => r.Path == "/user/orgs" && r.StatusCode == 200);
    }

    [Fact]
    public async Task A_GitHub_user_outside_the_allowlist_is_refused_with_a_clear_page_and_the_refusal_is_audited()
    {
        api.GitHub.AddUser(700002, "stranger", "A Stranger", null, "unrelated-org");
        api.GitHub.SignInAs("stranger");
        using var browser = api.NewConsentDriver();
        var page = await AccountsApiFixture.FollowAsync(browser, new Uri($"{api.BaseUrl}/signin/github?returnUrl=%2Fconsole"));

        Assert.Equal(HttpStatusCode.Forbidden, page.Status);
        Assert.Contains("You cannot sign in here", page.Html);
        Assert.Contains("'stranger' is not allowed to sign in here", page.Alert);
        Assert.Equal("DENY", page.Header("X-Frame-Options"));
        Assert.Null(api.SessionAccount(browser));
        var audit = await api.Services.GetRequiredService<AuditTrail>().ReadAsync(AuditTrail.SystemTenant, DateOnly.FromDateTime(DateTime.UtcNow), null, 1000);
        Assert.Contains(audit.Events, e => e.Action == "account.signin.refused" && e.Actor == "github:stranger");
    }

    [Fact]
    public async Task A_tampered_state_is_refused_and_nobody_is_signed_in()
    {
        api.GitHub.AddUser(700003, "hubot", "Hubot");
        api.GitHub.SignInAs("hubot");
        using var browser = api.NewConsentDriver();
        // Stop where GitHub sends the browser back, and change the state on the way.
        var back = await AccountsApiFixture.FollowAsync(browser, new Uri($"{api.BaseUrl}/signin/github?returnUrl=%2Fconsole"),
            stopAt: uri => uri.AbsolutePath == "/signin/callback/github");
        var callback = back.Response.Headers.Location!;
        var query = QueryHelpers.ParseQuery(callback.Query);
        var state = query["state"].ToString();
        var tampered = QueryHelpers.AddQueryString($"{api.BaseUrl}/signin/callback/github", new Dictionary<string, string?>
        {
            ["code"] = query["code"], ["state"] = state[..^4] + (state.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA"),
        });

        var page = await browser.GetAuthorizePageAsync(new Uri(tampered), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, page.Status);
        Assert.Contains("Sign-in did not complete", page.Html);
        Assert.Null(api.SessionAccount(browser));
        Assert.DoesNotContain(api.GitHub.Requests, r => r.Path == "/login/oauth/access_token" && r.Body.Contains("code=" + query["code"]));

        // The untouched answer still works once: the refusal above was the tampering, not the flow.
        var honest = await browser.GetAuthorizePageAsync(callback, Ct);
        Assert.Equal(HttpStatusCode.Found, honest.Status);
        Assert.Equal("github:700003", api.SessionAccount(browser));
    }

    [Fact]
    public async Task GitHubs_answer_brought_to_the_other_providers_callback_is_refused()
    {
        api.GitHub.AddUser(700005, "mixup", "Mix Up", null, AccountsApiFixture.AllowedOrg);
        api.GitHub.SignInAs("mixup");
        using var browser = api.NewConsentDriver();
        var back = await AccountsApiFixture.FollowAsync(browser, new Uri($"{api.BaseUrl}/signin/github?returnUrl=%2Fconsole"),
            stopAt: uri => uri.AbsolutePath == "/signin/callback/github");
        var mixedUp = new Uri(back.Response.Headers.Location!.ToString().Replace("/signin/callback/github", "/signin/callback/oidc"));
        var page = await browser.GetAuthorizePageAsync(mixedUp, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, page.Status);
        Assert.Null(api.SessionAccount(browser));
    }

    [Fact]
    public async Task A_state_from_another_browser_is_refused()
    {
        api.GitHub.AddUser(700004, "copycat", "Copy Cat", null, AccountsApiFixture.AllowedOrg);
        api.GitHub.SignInAs("copycat");
        using var victim = api.NewConsentDriver();
        var back = await AccountsApiFixture.FollowAsync(victim, new Uri($"{api.BaseUrl}/signin/github?returnUrl=%2Fconsole"),
            stopAt: uri => uri.AbsolutePath == "/signin/callback/github");
        using var attacker = api.NewConsentDriver();
        var page = await attacker.GetAuthorizePageAsync(back.Response.Headers.Location!, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, page.Status);
        Assert.Null(api.SessionAccount(attacker));
    }

    [Fact]
    public async Task An_OIDC_user_with_a_verified_address_in_an_allowed_domain_gets_a_session()
    {
        api.Oidc.AddUser("oidc-subject-1", "ada@example.com", name: "Ada");
        api.Oidc.SignInAs("oidc-subject-1");
        using var browser = api.NewConsentDriver();
        var last = await AccountsApiFixture.FollowAsync(browser, new Uri($"{api.BaseUrl}/signin/oidc?returnUrl=%2Fconsole"),
            stopAt: uri => uri.AbsolutePath == "/console");
        Assert.True(last.Status == HttpStatusCode.Found, last.Html);
        Assert.Equal("oidc:oidc-subject-1", api.SessionAccount(browser));
        // The library sent a nonce and a PKCE challenge of its own.
        var authorize = api.Oidc.Requests.Last(r => r.Path == "/authorize");
        Assert.Contains("nonce=", authorize.QueryString);
        Assert.Contains("code_challenge_method=S256", authorize.QueryString);
    }

    [Fact]
    public async Task A_tampered_nonce_in_the_identity_token_is_refused()
    {
        api.Oidc.AddUser("oidc-subject-2", "grace@example.com", name: "Grace");
        api.Oidc.SignInAs("oidc-subject-2");
        api.Oidc.TamperNonce = true;
        using var browser = api.NewConsentDriver();
        var page = await AccountsApiFixture.FollowAsync(browser, new Uri($"{api.BaseUrl}/signin/oidc?returnUrl=%2Fconsole"));
        Assert.Equal(HttpStatusCode.BadRequest, page.Status);
        Assert.Contains("Sign-in did not complete", page.Html);
        Assert.Null(api.SessionAccount(browser));
    }

    [Theory]
    [InlineData("oidc-subject-3", "mallory@elsewhere.example", true, "not in a domain allowed")]
    [InlineData("oidc-subject-4", "eve@example.com", false, "did not confirm your e-mail address")]
    public async Task An_OIDC_user_outside_the_allowed_domains_is_refused(string subject, string email, bool verified, string reason)
    {
        api.Oidc.AddUser(subject, email, verified);
        api.Oidc.SignInAs(subject);
        using var browser = api.NewConsentDriver();
        var page = await AccountsApiFixture.FollowAsync(browser, new Uri($"{api.BaseUrl}/signin/oidc?returnUrl=%2Fconsole"));
        Assert.Equal(HttpStatusCode.Forbidden, page.Status);
        Assert.Contains(reason, page.Alert);
        Assert.Null(api.SessionAccount(browser));
    }

    [Fact]
    public async Task The_sign_in_page_offers_each_configured_provider()
    {
        using var browser = api.NewConsentDriver();
        var page = await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin?returnUrl=%2Fconsole%2Fkeys"), Ct);
        Assert.Contains("href=\"/signin/github?returnUrl=%2Fconsole%2Fkeys\"", page.Html);
        Assert.Contains("href=\"/signin/oidc?returnUrl=%2Fconsole%2Fkeys\"", page.Html);
        Assert.NotNull(page.Form); // the tenant-password form stays
    }

    private static System.Security.Claims.ClaimsPrincipal Principal(string account) =>
        new(new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim(AccountSession.AccountClaim, account)], AccountSession.Scheme));
}
