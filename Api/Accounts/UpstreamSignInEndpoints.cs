using Dovecote.Api.Audit;
using Dovecote.Api.OAuth.Consent;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Client.AspNetCore;

namespace Dovecote.Api.Accounts;

/// <summary>
/// GET /signin/{github|google|microsoft|oidc}?returnUrl=... sends the browser to the provider; GET /signin/callback/{provider} is where it comes
/// back (OpenIddict's client has checked state, nonce and PKCE by then), signs the person in and returns to returnUrl.
/// </summary>
public static class UpstreamSignInEndpoints
{
    public static WebApplication MapUpstreamSignIn(this WebApplication app)
    {
        app.MapGet($"{AccountSession.SignInPath}/{{provider}}", Start);
        app.MapMethods($"/{UpstreamSignInExtensions.CallbackPathPrefix}/{{provider}}", [HttpMethods.Get, HttpMethods.Post], CallbackAsync);
        return app;
    }

    private static IResult Start(string provider, HttpContext http, IOptions<UpstreamSignInOptions> options)
    {
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        if (RegistrationName(provider, options.Value) is not { } registration) return NotConfigured();
        var properties = new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictClientAspNetCoreConstants.Properties.ProviderName] = registration,
        })
        {
            RedirectUri = AccountSession.LocalUrlOr(http.Request.Query[AccountSession.ReturnUrlParameter]),
        };
        return Results.Challenge(properties, [OpenIddictClientAspNetCoreDefaults.AuthenticationScheme]);
    }

    private static async Task<IResult> CallbackAsync(string provider, HttpContext http, IOptions<UpstreamSignInOptions> options,
        UpstreamIdentities identities, AccountSignIn accounts, AuditTrail audit, ILoggerFactory loggers)
    {
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        if (RegistrationName(provider, options.Value) is null) return NotConfigured();

        var result = await http.AuthenticateAsync(OpenIddictClientAspNetCoreDefaults.AuthenticationScheme);
        if (!result.Succeeded || result.Principal is not { Identity.IsAuthenticated: true } principal)
        {
            // A tampered state, one from another browser or brought to another provider's callback, a nonce that does not
            // match, a refusal at the provider: OpenIddict refuses them all, and nobody is signed in.
            var error = result.Properties?.GetString(OpenIddictClientAspNetCoreConstants.Properties.Error) ?? "invalid_request";
            var description = result.Properties?.GetString(OpenIddictClientAspNetCoreConstants.Properties.ErrorDescription);
            loggers.CreateLogger(typeof(UpstreamSignInEndpoints)).LogWarning("Sign-in with {Provider} failed: {Error} {Description}", provider, error, description);
            return ConsentPage.Problem("Sign-in did not complete",
                $"The answer from the sign-in provider could not be accepted ({error}{(description is null ? "" : ": " + description)}). Start again from the sign-in page.",
                StatusCodes.Status400BadRequest);
        }
        switch (await identities.ResolveAsync(provider, principal, result.Properties, http.RequestAborted))
        {
            case UpstreamIdentity.Refused refused:
                await audit.RecordAsync(AuditTrail.SystemTenant, $"{refused.Provider}:{refused.Who}", "account.signin.refused", refused.Provider, refused.Reason, http);
                return ConsentPage.Problem("You cannot sign in here", refused.Reason, StatusCodes.Status403Forbidden);
            case UpstreamIdentity.Allowed person:
                await accounts.SignInAsync(http, person);
                return Results.Redirect(AccountSession.LocalUrlOr(result.Properties?.RedirectUri));
            default:
                throw new InvalidOperationException("unknown identity outcome");
        }
    }

    /// <summary>The OpenIddict registration behind a /signin/{provider} path, or null when that provider is not configured.</summary>
    private static string? RegistrationName(string provider, UpstreamSignInOptions options) => provider switch
    {
        SignInProviders.GitHub when options.GitHubEnabled => UpstreamSignInExtensions.GitHubProviderName,
        SignInProviders.Google when options.GoogleEnabled => UpstreamSignInExtensions.GoogleProviderName,
        SignInProviders.Microsoft when options.MicrosoftEnabled => UpstreamSignInExtensions.MicrosoftProviderName,
        SignInProviders.Oidc when options.OidcEnabled => UpstreamSignInExtensions.OidcProviderName,
        _ => null,
    };

    private static IResult NotConfigured() =>
        ConsentPage.Problem("This sign-in provider is not available", "Go back to the sign-in page and pick another way in.", StatusCodes.Status404NotFound);
}
