using System.Net;
using Dovecote.Api.Accounts;
using Dovecote.Grains.Interfaces.Accounts;
using Dovecote.Tests.OAuth;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dovecote.Tests.Accounts;

/// <summary>/signin and /signout with the tenant password, over real HTTP against the real Api (embedded silo).</summary>
public sealed class SignInTests(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_password_form_starts_a_session_whose_memberships_are_that_tenant_as_owner()
    {
        using var browser = api.NewConsentDriver();
        var page = await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin?returnUrl=%2Fconsole%2Fchannels"), Ct);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("frame-ancestors 'none'", page.Header("Content-Security-Policy"));
        Assert.Equal("DENY", page.Header("X-Frame-Options"));
        Assert.Equal("/console/channels", page.Form!.Fields[AccountSession.ReturnUrlParameter]);

        using var signedIn = await browser.SubmitAsync(page.Form, OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword, "signin", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        Assert.Equal("/console/channels", signedIn.Headers.Location!.OriginalString);
        var setCookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AccountSession.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);

        // The cookie is the Api's own ticket (data-protected by its key ring), and the service resolves its memberships.
        var cookie = browser.Cookies.GetCookies(new Uri(api.BaseUrl))[AccountSession.CookieName]!.Value;
        var ticket = api.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(AccountSession.Scheme).TicketDataFormat.Unprotect(cookie);
        Assert.NotNull(ticket);
        Assert.Equal(AccountIds.Password(OAuthApiFixture.AcmeTenant), AccountSession.AccountOf(ticket.Principal));
        var memberships = api.Services.GetRequiredService<AccountMemberships>();
        Assert.Equal([new Membership(OAuthApiFixture.AcmeTenant, TenantRole.Owner)], await memberships.ForAsync(ticket.Principal));
        Assert.Equal(TenantRole.Owner, await memberships.RoleInAsync(ticket.Principal, OAuthApiFixture.AcmeTenant));
        Assert.Null(await memberships.RoleInAsync(ticket.Principal, OAuthApiFixture.DefaultTenant));

        // The browser's next request is signed in.
        var again = await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin"), Ct);
        Assert.Contains("You are signed in as <strong>acme</strong>", again.Html);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_a_reason_and_no_session()
    {
        using var browser = api.NewConsentDriver();
        var form = await browser.GetAuthorizeFormAsync(new Uri($"{api.BaseUrl}/signin"), Ct);
        var refused = await browser.SubmitForPageAsync(form, OAuthApiFixture.AcmeTenant, "not-the-password", "signin", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("Wrong tenant or password.", refused.Alert);
        Assert.Null(browser.Cookies.GetCookies(new Uri(api.BaseUrl))[AccountSession.CookieName]);
    }

    [Fact]
    public async Task A_post_without_the_csrf_token_is_refused()
    {
        using var browser = api.NewConsentDriver();
        var form = await browser.GetAuthorizeFormAsync(new Uri($"{api.BaseUrl}/signin"), Ct);
        var forged = await browser.SubmitForPageAsync(form, OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword, "signin",
            new Dictionary<string, string?> { ["csrf_token"] = null }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, forged.Status);
        Assert.Equal("This form has expired", ConsentDriverHeading(forged.Html));
        Assert.Null(browser.Cookies.GetCookies(new Uri(api.BaseUrl))[AccountSession.CookieName]);
    }

    [Theory]
    [InlineData("//evil.example/console")]
    [InlineData("/\\evil.example")]
    [InlineData("https://evil.example/")]
    public async Task A_return_url_off_this_site_goes_to_the_console_instead(string returnUrl)
    {
        using var browser = api.NewConsentDriver();
        var form = await browser.GetAuthorizeFormAsync(new Uri($"{api.BaseUrl}/signin?returnUrl={Uri.EscapeDataString(returnUrl)}"), Ct);
        using var signedIn = await browser.SubmitAsync(form, OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword, "signin",
            new Dictionary<string, string?> { [AccountSession.ReturnUrlParameter] = returnUrl }, Ct);
        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        Assert.Equal("/console", signedIn.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Signing_out_ends_the_session_and_needs_the_csrf_token()
    {
        using var browser = api.NewConsentDriver();
        var form = await browser.GetAuthorizeFormAsync(new Uri($"{api.BaseUrl}/signin"), Ct);
        (await browser.SubmitAsync(form, OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword, "signin", cancellationToken: Ct)).Dispose();
        var signOut = new ConsentForm(new Uri($"{api.BaseUrl}/signout"), "POST", new Dictionary<string, string> { ["csrf_token"] = form.CsrfToken }, [])
        {
            SubmitOrigin = "null",
        };

        var forged = await browser.SubmitForPageAsync(signOut, null, null, "out", new Dictionary<string, string?> { ["csrf_token"] = "forged" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, forged.Status);
        Assert.Contains("You are signed in as", (await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin"), Ct)).Html);

        using var signedOut = await browser.SubmitAsync(signOut, null, null, "out", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.Found, signedOut.StatusCode);
        Assert.DoesNotContain("You are signed in as", (await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin"), Ct)).Html);
    }

    private static string? ConsentDriverHeading(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "<h1[^>]*>(.*?)</h1>").Groups[1].Value is { Length: > 0 } heading ? heading : null;
}

/// <summary>/signin and the consent page share the cluster-wide failure budgets: guessing on one page uses up the other's.</summary>
public sealed class SharedSignInLimitTests(LowSignInLimitOAuthApiFixture api) : IClassFixture<LowSignInLimitOAuthApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Wrong_passwords_at_signin_count_toward_the_consent_pages_limit()
    {
        using var browser = api.NewConsentDriver();
        browser.Headers.Add("X-Forwarded-For", "203.0.113.77"); // an address of its own, so other tests' failures do not count
        var form = await browser.GetAuthorizeFormAsync(new Uri($"{api.BaseUrl}/signin"), Ct);
        for (var i = 0; i < LowSignInLimitOAuthApiFixture.PerAddress; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SubmitForPageAsync(form, OAuthApiFixture.AcmeTenant, "wrong-password", "signin", cancellationToken: Ct)).Status);
        var limited = await browser.SubmitForPageAsync(form, OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword, "signin", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);

        // The consent page, same address: limited too, even with the right password.
        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/callback";
        var client = await api.RegisterPublicClientAsync(redirect);
        var consent = await browser.GetAuthorizeFormAsync(api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "s", Pkce.Create()), Ct);
        var refused = await browser.SubmitForPageAsync(consent, OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword, "allow", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
    }
}

/// <summary>Behind a TLS-terminating proxy (DOVECOTE_PUBLIC_URL https, Kestrel on http): the session cookie is Secure.</summary>
public sealed class ProxiedSignInTests(ProxiedOAuthApiFixture api) : IClassFixture<ProxiedOAuthApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_session_cookie_is_secure_when_the_public_url_is_https()
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });
        HttpRequestMessage ThroughProxy(HttpMethod method, string path)
        {
            var request = new HttpRequestMessage(method, api.BaseUrl + path);
            request.Headers.Host = new Uri(ProxiedOAuthApiFixture.PublicOrigin).Host;
            request.Headers.Add("X-Forwarded-Proto", "https");
            return request;
        }

        using var get = await http.SendAsync(ThroughProxy(HttpMethod.Get, "/signin"), Ct);
        var html = await get.Content.ReadAsStringAsync(Ct);
        var csrfCookie = get.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("dovecote_csrf=", StringComparison.Ordinal)).Split(';')[0];
        var form = ConsentDriver.ParseForm(html, new Uri(api.BaseUrl + "/signin"))!;
        var post = ThroughProxy(HttpMethod.Post, "/signin");
        post.Headers.Add("Cookie", csrfCookie);
        post.Headers.Add("Origin", ProxiedOAuthApiFixture.PublicOrigin);
        post.Content = new FormUrlEncodedContent(new Dictionary<string, string>(form.Fields)
        {
            ["tenant"] = OAuthApiFixture.AcmeTenant, ["password"] = OAuthApiFixture.AcmePassword,
        });
        using var signedIn = await http.SendAsync(post, Ct);

        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        var session = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AccountSession.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", session, StringComparison.OrdinalIgnoreCase);
    }
}
