using System.Net;
using Dovecote.Api.Accounts;
using Dovecote.Tests.Fakes;
using Dovecote.Tests.OAuth;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dovecote.Tests.Accounts;

/// <summary>
/// The real Api with GitHub and an OpenID Connect provider configured, both fakes on loopback: GitHub allows the login
/// <see cref="AllowedLogin"/> and members of <see cref="AllowedOrg"/>; the OIDC provider allows verified addresses at
/// <see cref="AllowedDomain"/>. Self-service sign-up is on, so a new account gets its own tenant.
/// </summary>
public class AccountsApiFixture : OAuthApiFixture
{
    public const string GitHubClientId = "Iv1.fake0123456789ab";
    public const string GitHubClientSecret = "fake-github-secret-0123456789abcdef";
    public const string OidcClientId = "dovecote-fake";
    public const string OidcClientSecret = "fake-oidc-secret-0123456789abcdef";
    public const string AllowedLogin = "octocat";
    public const string AllowedOrg = "dovecote-friends";
    public const string AllowedDomain = "example.com";

    public FakeGitHubServer GitHub { get; } = new(GitHubClientId, GitHubClientSecret);
    public FakeOidcProvider Oidc { get; } = new(OidcClientId, OidcClientSecret);

    protected virtual bool SignUp => true;

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"--DOVECOTE_GITHUB_CLIENT_ID={GitHubClientId}",
        $"--DOVECOTE_GITHUB_CLIENT_SECRET={GitHubClientSecret}",
        $"--DOVECOTE_GITHUB_ALLOWED_USERS={AllowedLogin},hubot",
        $"--DOVECOTE_GITHUB_ALLOWED_ORGS={AllowedOrg}",
        $"--DOVECOTE_GITHUB_BASE_URL={GitHub.BaseUrl}",
        $"--DOVECOTE_GITHUB_API_BASE_URL={GitHub.BaseUrl}",
        $"--DOVECOTE_OIDC_AUTHORITY={Oidc.BaseUrl}",
        $"--DOVECOTE_OIDC_CLIENT_ID={OidcClientId}",
        $"--DOVECOTE_OIDC_CLIENT_SECRET={OidcClientSecret}",
        $"--DOVECOTE_OIDC_ALLOWED_DOMAINS={AllowedDomain}",
        $"--DOVECOTE_SIGNUP={(SignUp ? "true" : "false")}",
    ];

    protected override async Task StartDependenciesAsync()
    {
        await GitHub.StartAsync();
        await Oidc.StartAsync();
    }

    protected override async ValueTask StopDependenciesAsync()
    {
        await GitHub.DisposeAsync();
        await Oidc.DisposeAsync();
        Oidc.Dispose();
    }

    /// <summary>
    /// Follows redirects from <paramref name="start"/> across the Api and the fakes with the browser's cookies, the way a
    /// browser would, and returns the last answer: the first one that is not a redirect, or the first redirect <paramref name="stopAt"/> says to keep.
    /// </summary>
    public static async Task<OAuth.ConsentPage> FollowAsync(ConsentDriver browser, Uri start, Func<Uri, bool>? stopAt = null)
    {
        var at = start;
        for (var hop = 0; hop < 10; hop++)
        {
            var page = await browser.GetAuthorizePageAsync(at, TestContext.Current.CancellationToken);
            if (page.Status is not (HttpStatusCode.Found or HttpStatusCode.Redirect or HttpStatusCode.SeeOther) || page.Response.Headers.Location is not { } location)
                return page;
            var next = location.IsAbsoluteUri ? location : new Uri(at, location);
            if (stopAt?.Invoke(next) == true) return page;
            at = next;
        }
        throw new InvalidOperationException($"more than 10 redirects from {start}");
    }

    /// <summary>The account of the browser's session cookie (decrypted with the Api's own ticket format), or null.</summary>
    public string? SessionAccount(ConsentDriver browser)
    {
        var cookie = browser.Cookies.GetCookies(new Uri(BaseUrl))[AccountSession.CookieName]?.Value;
        if (string.IsNullOrEmpty(cookie)) return null;
        var ticket = Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(AccountSession.Scheme).TicketDataFormat.Unprotect(cookie);
        return AccountSession.AccountOf(ticket?.Principal);
    }

    /// <summary>Signs <paramref name="login"/> in with the fake GitHub; asserts it lands on <paramref name="returnUrl"/>.</summary>
    public async Task<ConsentDriver> SignInWithGitHubAsync(string login, string returnUrl = "/console")
    {
        var browser = NewConsentDriver();
        GitHub.SignInAs(login);
        var last = await FollowAsync(browser, new Uri($"{BaseUrl}/signin/github?returnUrl={Uri.EscapeDataString(returnUrl)}"),
            stopAt: uri => uri.AbsolutePath == new Uri(new Uri(BaseUrl), returnUrl).AbsolutePath && uri.Authority == new Uri(BaseUrl).Authority);
        Assert.True(last.Status == HttpStatusCode.Found, $"GitHub sign-in of {login} ended {(int)last.Status}:\n{last.Html}");
        Assert.Equal(returnUrl, last.Response.Headers.Location!.OriginalString);
        return browser;
    }
}

/// <summary>The same providers with self-service sign-up off (the default).</summary>
public sealed class NoSignUpAccountsApiFixture : AccountsApiFixture
{
    protected override bool SignUp => false;
}
