using System.Net;
using Dovecote.Api.Accounts;
using Dovecote.Tests.Fakes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Client.SystemNetHttp;
using OpenIddict.Client.WebIntegration;

namespace Dovecote.Tests.Accounts;

/// <summary>
/// The accounts fixture with Google and Microsoft (tenant "common") configured too. Their discovery documents and keys come
/// from <see cref="FakeWebProviderMetadata"/>, at their real https URLs: OpenIddict's client for those two registrations
/// goes through the fake's CONNECT proxy and trusts its certificate (set before any request is made).
/// </summary>
public sealed class WebProvidersApiFixture : AccountsApiFixture, IAsyncLifetime
{
    public const string GoogleClientId = "1234567890-fake.apps.googleusercontent.com";
    public const string MicrosoftClientId = "00000000-0000-4000-8000-00000000fa4e";

    public FakeWebProviderMetadata Metadata { get; } = new();

    protected override IEnumerable<string> ExtraArguments =>
    [
        .. base.ExtraArguments,
        $"--DOVECOTE_GOOGLE_CLIENT_ID={GoogleClientId}",
        "--DOVECOTE_GOOGLE_CLIENT_SECRET=fake-google-secret-0123456789",
        $"--DOVECOTE_MICROSOFT_CLIENT_ID={MicrosoftClientId}",
        "--DOVECOTE_MICROSOFT_CLIENT_SECRET=fake-microsoft-secret-0123456789",
    ];

    protected override async Task StartDependenciesAsync()
    {
        await base.StartDependenciesAsync();
        await Metadata.StartAsync();
    }

    protected override async ValueTask StopDependenciesAsync()
    {
        await base.StopDependenciesAsync();
        await Metadata.DisposeAsync();
        Metadata.Dispose();
    }

    async ValueTask IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        // Before any request: OpenIddict builds each registration's HttpClientHandler on first use and runs these actions on it.
        Services.GetRequiredService<IOptionsMonitor<OpenIddictClientSystemNetHttpOptions>>().CurrentValue.HttpClientHandlerActions.Add((registration, handler) =>
        {
            if (registration.ProviderType is not (OpenIddictClientWebIntegrationConstants.ProviderTypes.Google or OpenIddictClientWebIntegrationConstants.ProviderTypes.Microsoft))
                return;
            handler.UseProxy = true;
            handler.Proxy = new WebProxy(Metadata.Proxy);
            handler.ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == Metadata.Certificate.Thumbprint;
        });
    }
}

/// <summary>
/// "Sign in with Google" and "Sign in with Microsoft" without the internet: the buttons, and each challenge sending the browser
/// to the provider's real authorize endpoint with our client id and callback, a state, a nonce and an S256 PKCE challenge
/// (checked, never followed). Google's whole sign-in runs against the fake's token and userinfo endpoints, so its
/// email_verified reaches the allowlist through OpenIddict's validation of the ID token; Microsoft's claims are mapped as
/// <see cref="UpstreamIdentityMappingTests"/> shows.
/// </summary>
public sealed class WebProviderSignInTests(WebProvidersApiFixture api) : IClassFixture<WebProvidersApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sign_in_page_offers_Google_and_Microsoft_beside_the_others()
    {
        using var browser = api.NewConsentDriver();
        var page = await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin?returnUrl=%2Fconsole"), Ct);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        foreach (var (provider, label) in new[] { ("github", "GitHub"), ("google", "Google"), ("microsoft", "Microsoft"), ("oidc", "single sign-on") })
            Assert.Contains($"href=\"/signin/{provider}?returnUrl=%2Fconsole\">Sign in with {label}</a>", page.Html);
        Assert.NotNull(page.Form); // the tenant-password form stays
    }

    [Theory]
    [InlineData(SignInProviders.Google, FakeWebProviderMetadata.GoogleAuthorize, WebProvidersApiFixture.GoogleClientId)]
    [InlineData(SignInProviders.Microsoft, FakeWebProviderMetadata.MicrosoftCommonAuthorize, WebProvidersApiFixture.MicrosoftClientId)]
    public async Task The_challenge_sends_the_browser_to_the_providers_authorize_endpoint_with_state_nonce_and_pkce(
        string provider, string authorizeEndpoint, string clientId)
    {
        using var browser = api.NewConsentDriver();
        var start = await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin/{provider}?returnUrl=%2Fconsole"), Ct);

        Assert.True(start.Status == HttpStatusCode.Found, $"{(int)start.Status}: {start.Html}");
        var location = start.Response.Headers.Location!;
        Assert.Equal(authorizeEndpoint, location.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal(clientId, query["client_id"].ToString());
        Assert.Equal($"{api.BaseUrl}/signin/callback/{provider}", query["redirect_uri"].ToString());
        Assert.Equal("code", query["response_type"].ToString());
        Assert.Equal(["email", "openid", "profile"], query["scope"].ToString().Split(' ').Order());
        Assert.Equal("S256", query["code_challenge_method"].ToString());
        Assert.Matches("^[A-Za-z0-9_-]{43}$", query["code_challenge"].ToString()); // base64url of a SHA-256
        Assert.False(string.IsNullOrEmpty(query["state"]));
        Assert.False(string.IsNullOrEmpty(query["nonce"]));
        // The answer is bound to this browser by the library's correlation cookie.
        Assert.Contains(start.Response.Headers.GetValues("Set-Cookie"), c => c.Contains("httponly", StringComparison.OrdinalIgnoreCase));

        // The metadata came from the provider's discovery document and key set (the fake here, the provider in production).
        var host = new Uri(authorizeEndpoint).Host;
        Assert.Contains(api.Metadata.Requests, r => r.Headers.GetValueOrDefault("Host") == host && r.Path.EndsWith("/.well-known/openid-configuration", StringComparison.Ordinal) && r.StatusCode == 200);
    }

    [Theory]
    [InlineData("g-200001", "ada@example.com", true, null)]
    [InlineData("g-200002", "bob@example.com", false, "Google did not confirm your e-mail address")]
    [InlineData("g-200003", "eve@elsewhere.example", true, "not in a domain allowed to sign in here")]
    public async Task A_Google_sign_in_lets_in_a_verified_address_of_an_allowed_domain_only(string subject, string email, bool verified, string? refusal)
    {
        using var browser = api.NewConsentDriver();
        var start = await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin/google?returnUrl=%2Fconsole"), Ct);
        var back = api.Metadata.ApproveAtGoogle(start.Response.Headers.Location!, new FakeOidcUser(subject, email, verified, $"Person {subject}"));
        var page = await browser.GetAuthorizePageAsync(back, Ct);

        if (refusal is null)
        {
            Assert.True(page.Status == HttpStatusCode.Found, $"{(int)page.Status}: {page.Html}");
            Assert.Equal("/console", page.Response.Headers.Location!.OriginalString);
            Assert.Equal($"google:{subject}", api.SessionAccount(browser));
        }
        else
        {
            Assert.Equal(HttpStatusCode.Forbidden, page.Status);
            Assert.Contains(refusal, page.Alert);
            Assert.Null(api.SessionAccount(browser));
        }
        // The code was redeemed at Google's token endpoint with the secret and the PKCE verifier, once.
        Assert.Single(api.Metadata.Requests, r => r.Path == "/token" && r.StatusCode == 200 && r.Body.Contains("code_verifier=") && r.Body.Contains(back.Query.Split("code=")[1].Split('&')[0]));
    }

    [Fact]
    public async Task Two_challenges_never_share_state_nonce_or_pkce()
    {
        string[] Secrets(Uri location)
        {
            var query = QueryHelpers.ParseQuery(location.Query);
            return [query["state"].ToString(), query["nonce"].ToString(), query["code_challenge"].ToString()];
        }
        using var browser = api.NewConsentDriver();
        var first = await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin/google?returnUrl=%2Fconsole"), Ct);
        var second = await browser.GetAuthorizePageAsync(new Uri($"{api.BaseUrl}/signin/google?returnUrl=%2Fconsole"), Ct);
        Assert.Empty(Secrets(first.Response.Headers.Location!).Intersect(Secrets(second.Response.Headers.Location!)));
    }
}
