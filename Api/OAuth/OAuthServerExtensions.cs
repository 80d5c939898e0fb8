using Dovecote.Api.Accounts;
using Dovecote.Api.DataProtection;
using Dovecote.Api.Hosting;
using Dovecote.Api.OAuth.Consent;
using Dovecote.Api.OAuth.Discovery;
using Dovecote.Api.OAuth.Registration;
using Dovecote.Api.OAuth.Stores;
using Dovecote.Api.OAuth.Validation;
using Dovecote.Api.Security;
using Dovecote.Grains.Hosting;
using Dovecote.Grains.Security;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using OpenIddict.Validation;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Api.OAuth;

/// <summary>
/// The OAuth 2.1 authorization server (OpenIddict on grain stores) and the validation of its tokens at /mcp.
/// Endpoints: /authorize (consent page), /token, /revoke, /register, /.well-known/* discovery.
/// </summary>
public static class OAuthServerExtensions
{
    public static WebApplicationBuilder AddDovecoteOAuth(this WebApplicationBuilder builder, string? embeddedDataDirectory)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        // Needed now: the public URL decides whether OpenIddict insists on https, and the keys are handed to it.
        var origins = services.AddDovecoteOptionsNow<OriginOptions>(configuration);
        var keys = OAuthKeyMaterial.Load(services.AddDovecoteOptionsNow<OAuthKeyOptions>(configuration), embeddedDataDirectory);
        var httpsOnly = origins.PublicUrl?.Trim().StartsWith("https://", StringComparison.OrdinalIgnoreCase) == true;

        services.AddSingleton(keys);
        services.AddSingleton<PublicUrl>();
        services.AddSingleton<ConsentCsrf>();
        services.AddScoped<SignInService>();
        services.AddScoped<ClientRegistration>();
        services.AddSingleton<ClientMetadataDocuments>();
        services.AddDovecoteOptions<OAuthServerOptions>(configuration.GetSection(OAuthServerOptions.Section));
        services.AddDovecoteOptions<RegistrationOptions>(configuration);
        services.AddDovecoteOptions<RegistrationLimitOptions>(configuration.GetSection(OAuthServerOptions.Section));

        // Metadata documents are fetched from client-chosen URLs: the SSRF guard checks every connection, and nothing is logged.
        services.AddOutboundAddressGuard(configuration);
        services.AddHttpClient(ClientMetadataDocuments.HttpClientName, client => client.Timeout = ClientMetadataDocuments.FetchTimeout)
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var handler = GuardedHttp.CreateHandler(sp.GetRequiredService<OutboundAddressGuard>());
                handler.MaxResponseDrainSize = ClientMetadataDocuments.MaxDocumentBytes;
                return handler;
            })
            .RemoveAllLoggers();

        services.AddDataProtection().SetApplicationName("dovecote").PersistKeysToGrains();
        // The client side toward GitHub / OIDC, when configured: its state tokens use the same keys.
        services.AddUpstreamSignIn(services.AddDovecoteOptionsNow<UpstreamSignInOptions>(configuration), keys, httpsOnly);

        services.AddOpenIddict()
            .AddCore(core => core.UseGrainStores())
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris("authorize")
                    .SetTokenEndpointUris("token")
                    .SetRevocationEndpointUris("revoke");
                server.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow();
                // PKCE with S256 only: without "plain" a missing or plain challenge is refused.
                server.RequireProofKeyForCodeExchange();
                server.Configure(options => options.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain));
                server.RegisterScopes([.. DovecoteScopes.Grantable]);
                // Resources are checked against the one registered resource ({public url}/mcp), so per-client resource permissions add nothing.
                server.IgnoreResourcePermissions();
                server.AddSigningKey(keys.Signing).AddEncryptionKey(keys.Encryption);
                // Access tokens are signed JWTs (RS256), not JWE: only this server reads them, their claims are ids the holder
                // already knows (tenant, client, scopes, audience, expiry, token id), and decrypting one cost about 2.5 times its
                // signature check on every /mcp call (docs/architecture.md). Codes and refresh tokens stay encrypted. The
                // validation still holds the encryption key, so JWE access tokens issued before this keep working until they expire.
                server.DisableAccessTokenEncryption();

                // Errors that cannot go back to the client (unknown client, unregistered redirect URI) become a page (UseAuthorizeErrorPage).
                var aspNetCore = server.UseAspNetCore().EnableAuthorizationEndpointPassthrough().EnableStatusCodePagesIntegration();
                if (!httpsOnly) aspNetCore.DisableTransportSecurityRequirement();

                server.AddEventHandler(DiscoveryEndpoints.AuthorizationServerMetadata.Descriptor);
                server.AddEventHandler(ClientMetadataDocuments.AuthorizationHandler.Descriptor);
                foreach (var handler in UnknownClientBudget.Descriptors) server.AddEventHandler(handler);
                server.AddEventHandler(OAuthAudit.TokenIssued.Descriptor);
                server.AddEventHandler(OAuthAudit.TokenRevoked.Descriptor);
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                validation.UseAspNetCore();
                // Each /mcp call checks the token's entry and its grant, so a revoked grant, a replayed code or refresh token
                // stops its access tokens (the token entry is what names the grant: our access tokens do not carry its id).
                // OpenIddict's own entry validation reads both grains on every call, about half of a cheap tool's throughput
                // (bench/README.md); this check remembers a valid answer per pod for at most OAuth:TokenStatusCacheLifetime.
                validation.AddEventHandler(TokenAndGrantCheck.Descriptor);
            });

        // The issuer and resource come from the public URL, known only once Kestrel listens when it is not configured.
        services.AddOptions<OpenIddictServerOptions>().Configure<PublicUrl, IOptions<OAuthServerOptions>>((server, url, oauth) =>
        {
            server.Issuer = url.IssuerUri;
            server.Resources.Add(new Uri(url.McpResource));
            server.AccessTokenLifetime = oauth.Value.AccessTokenLifetime;
            server.RefreshTokenLifetime = oauth.Value.RefreshTokenLifetime;
            server.RefreshTokenReuseLeeway = oauth.Value.RefreshTokenReuseLeeway;
            server.AuthorizationCodeLifetime = oauth.Value.AuthorizationCodeLifetime;
        });
        services.AddOptions<OpenIddictValidationOptions>().Configure<PublicUrl>((validation, url) => validation.Audiences.Add(url.McpResource));

        services.AddDovecoteOptions<TrustedProxyOptions>(configuration);
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<TrustedProxyOptions>>((forwarded, proxies) => proxies.Value.ApplyTo(forwarded));
        builder.Logging.AddFilter("OpenIddict", LogLevel.Warning); // its Information logs echo request parameters
        // "No XML encryptor configured" is not true here: the key ring grain encrypts every element at rest.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);
        return builder;
    }

    /// <summary>The consent page's look and headers for the errors OpenIddict answers at /authorize without redirecting.</summary>
    public static WebApplication UseAuthorizeErrorPage(this WebApplication app)
    {
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (!http.Request.Path.Equals("/authorize", StringComparison.OrdinalIgnoreCase)
                || http.GetOpenIddictServerResponse() is not { Error: { } error } response) return;
            ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
            // Always 400: OpenIddict answers an unknown client with 401, but a person holding a bad link is not failing to authenticate.
            await ConsentPage.Problem(
                "This sign-in link is not valid",
                $"{response.ErrorDescription ?? error} Go back to the app and connect again.",
                StatusCodes.Status400BadRequest)
                .ExecuteAsync(http);
        });
        return app;
    }

    public static WebApplication MapDovecoteOAuth(this WebApplication app)
    {
        app.MapAuthorize();
        app.MapClientRegistration();
        app.MapProtectedResourceMetadata();
        return app;
    }
}
