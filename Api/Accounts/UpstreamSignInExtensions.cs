using Dovecote.Api.OAuth;
using OpenIddict.Client;
using OpenIddict.Client.WebIntegration;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Api.Accounts;

/// <summary>
/// OpenIddict's client toward the upstream providers (GitHub, Google and Microsoft through its web integration, any OpenID
/// Connect provider by discovery). The web integration knows GitHub's endpoints; Google's and Microsoft's it reads from their
/// discovery documents (and signing keys) on the first sign-in, as for the generic provider, and keeps them cached.
/// State, nonce and PKCE are the library's. Client token storage is off: the state token is then a
/// self-contained JWT (signed and encrypted with the server's cluster-wide keys, typed so it is never taken for an access
/// token) instead of an entry in the grain token store, whose indexes are keyed by the server's applications and grants.
/// What stays against a replayed callback: the state token lives <see cref="StateTokenLifetime"/>, it is bound to the
/// browser by the library's request-forgery cookie (a replay from another browser is refused), and the provider's
/// authorization code it carries is single-use at the provider, so a second redemption fails there.
/// </summary>
public static class UpstreamSignInExtensions
{
    public const string CallbackPathPrefix = "signin/callback";
    public static readonly TimeSpan StateTokenLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The registrations' provider names, which the challenge names and the callback reads back.</summary>
    public const string GitHubProviderName = "GitHub", GoogleProviderName = "Google", MicrosoftProviderName = "Microsoft", OidcProviderName = "oidc";

    public static void AddUpstreamSignIn(this IServiceCollection services, UpstreamSignInOptions upstream, OAuthKeyMaterial keys, bool httpsOnly)
    {
        if (!upstream.GitHubEnabled && !upstream.GoogleEnabled && !upstream.MicrosoftEnabled && !upstream.OidcEnabled) return;
        services.AddOpenIddict().AddClient(client =>
        {
            client.AllowAuthorizationCodeFlow();
            client.DisableTokenStorage();
            client.SetStateTokenLifetime(StateTokenLifetime);
            client.AddEncryptionKey(keys.Encryption).AddSigningKey(keys.Signing);
            client.SetRedirectionEndpointUris(
                [.. new[] { SignInProviders.GitHub, SignInProviders.Google, SignInProviders.Microsoft, SignInProviders.Oidc }.Select(p => $"{CallbackPathPrefix}/{p}")]);
            // The answer comes back as a query (a GET): a cross-site form_post would carry neither SameSite cookies nor our Origin.
            client.Configure(options => options.ResponseModes.IntersectWith([ResponseModes.Query]));

            var aspNetCore = client.UseAspNetCore().EnableRedirectionEndpointPassthrough().EnableErrorPassthrough();
            if (!httpsOnly) aspNetCore.DisableTransportSecurityRequirement();
            // The correlation cookie binds the answer to this browser. Lax is enough (the provider sends the browser back with a
            // top-level GET), and it must work over plain http when the service itself is served so (embedded, tests).
            aspNetCore.Configure(options =>
            {
                options.CookieBuilder.SameSite = SameSiteMode.Lax;
                options.CookieBuilder.SecurePolicy = httpsOnly ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            });
            client.UseSystemNetHttp().SetProductInformation(typeof(UpstreamSignInExtensions).Assembly);

            var web = client.UseWebProviders();
            if (upstream.GitHubEnabled)
            {
                web.AddGitHub(github =>
                {
                    github.SetClientId(upstream.GitHubClientId!.Trim())
                        .SetClientSecret(upstream.GitHubClientSecret?.Trim() ?? "")
                        .SetRedirectUri($"{CallbackPathPrefix}/{SignInProviders.GitHub}");
                    // Organisation membership is read from GET /user/orgs, which needs read:org.
                    github.AddScopes(UpstreamSignInOptions.List(upstream.GitHubAllowedOrgs).Count > 0 ? ["read:user", "user:email", "read:org"] : ["read:user", "user:email"]);
                });
            }
            if (upstream.GoogleEnabled)
            {
                web.AddGoogle(google => google.SetClientId(upstream.GoogleClientId!.Trim())
                    .SetClientSecret(upstream.GoogleClientSecret!.Trim())
                    .SetRedirectUri($"{CallbackPathPrefix}/{SignInProviders.Google}")
                    .AddScopes(Scopes.Email, Scopes.Profile));
            }
            if (upstream.MicrosoftEnabled)
            {
                web.AddMicrosoft(microsoft => microsoft.SetClientId(upstream.MicrosoftClientId!.Trim())
                    .SetClientSecret(upstream.MicrosoftClientSecret!.Trim())
                    .SetTenant(upstream.MicrosoftTenant.Trim())
                    .SetRedirectUri($"{CallbackPathPrefix}/{SignInProviders.Microsoft}")
                    .AddScopes(Scopes.Email, Scopes.Profile));
            }
            if (upstream.OidcEnabled)
            {
                client.AddRegistration(new OpenIddictClientRegistration
                {
                    Issuer = new Uri(upstream.OidcAuthority!.Trim(), UriKind.Absolute),
                    ProviderName = OidcProviderName,
                    ProviderDisplayName = upstream.OidcDisplayName,
                    ClientId = upstream.OidcClientId!.Trim(),
                    ClientSecret = string.IsNullOrWhiteSpace(upstream.OidcClientSecret) ? null : upstream.OidcClientSecret.Trim(),
                    RedirectUri = new Uri($"{CallbackPathPrefix}/{SignInProviders.Oidc}", UriKind.Relative),
                    Scopes = { Scopes.OpenId, Scopes.Profile, Scopes.Email },
                });
            }
        });

        // DOVECOTE_GITHUB_BASE_URL / _API_BASE_URL (a GitHub Enterprise server, tests): the library's own GitHub endpoints,
        // moved to those origins. Set before the web integration fills in its defaults, which then keep ours.
        if (upstream.GitHubEnabled && (upstream.GitHubBaseUrl != GitHubDefaults.Web || upstream.GitHubApiBaseUrl != GitHubDefaults.Api))
            services.Configure<OpenIddictClientOptions>(options =>
            {
                foreach (var registration in options.Registrations.Where(r => r.ProviderType == OpenIddictClientWebIntegrationConstants.ProviderTypes.GitHub))
                {
                    var web = upstream.GitHubBaseUrl.TrimEnd('/');
                    var api = upstream.GitHubApiBaseUrl.TrimEnd('/');
                    registration.Issuer = new Uri(web + "/", UriKind.Absolute);
                    registration.Configuration = new OpenIddictConfiguration
                    {
                        Issuer = registration.Issuer,
                        AuthorizationEndpoint = new Uri($"{web}/login/oauth/authorize", UriKind.Absolute),
                        TokenEndpoint = new Uri($"{web}/login/oauth/access_token", UriKind.Absolute),
                        UserInfoEndpoint = new Uri($"{api}/user", UriKind.Absolute),
                        GrantTypesSupported = { GrantTypes.AuthorizationCode },
                        ResponseModesSupported = { ResponseModes.Query },
                        ResponseTypesSupported = { ResponseTypes.Code },
                        TokenEndpointAuthMethodsSupported = { ClientAuthenticationMethods.ClientSecretPost },
                    };
                }
            });
    }

    public static class GitHubDefaults
    {
        public const string Web = "https://github.com";
        public const string Api = "https://api.github.com";
    }
}
