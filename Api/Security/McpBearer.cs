using Microsoft.AspNetCore.Authentication;
using OpenIddict.Validation.AspNetCore;

namespace Dovecote.Api.Security;

/// <summary>
/// The one bearer scheme /mcp names: an OAuth access token (a JWT, validated by OpenIddict) or an API key. Refusals
/// always come from the API-key handler, so every 401 looks the same and counts toward the failed-attempt limit.
/// </summary>
public static class McpBearer
{
    public const string SchemeName = "McpBearer";

    public static AuthenticationBuilder AddMcpBearer(this AuthenticationBuilder authentication) => authentication
        .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
        .AddPolicyScheme(SchemeName, "API key or OAuth access token", options =>
        {
            options.ForwardDefaultSelector = http => IsJwt(http.Request.Headers.Authorization.ToString())
                ? OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme
                : ApiKeyAuthenticationHandler.SchemeName;
            options.ForwardChallenge = ApiKeyAuthenticationHandler.SchemeName;
            options.ForwardForbid = ApiKeyAuthenticationHandler.SchemeName;
        });

    /// <summary>
    /// UseAuthentication, but /mcp runs only what its bearer needs. OpenIddict's server and validation handlers each open a
    /// transaction for every request that passes UseAuthentication, and /mcp is none of their endpoints: an API-key call
    /// needs neither, and an access token only the validation's (its authentication reads that transaction).
    /// </summary>
    public static void UseDovecoteAuthentication(this WebApplication app)
    {
        app.UseWhen(http => !IsMcp(http), branch => branch.UseAuthentication());
        app.UseWhen(http => IsMcp(http) && IsJwt(http.Request.Headers.Authorization.ToString()), branch => branch.Use(async (http, next) =>
        {
            var handlers = http.RequestServices.GetRequiredService<IAuthenticationHandlerProvider>();
            if (await handlers.GetHandlerAsync(http, OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme) is IAuthenticationRequestHandler validation
                && await validation.HandleRequestAsync())
                return;
            await next(http);
        }));
        // The key WebApplication checks before it adds UseAuthentication at the front of the pipeline, ahead of the forwarded
        // headers, when the app did not call it itself (here it did, inside the branch, which has properties of its own).
        ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
    }

    private static bool IsMcp(HttpContext http) => http.Request.Path.StartsWithSegments(Mcp.McpEndpointExtensions.Path);

    /// <summary>A compact JWS (3 parts) or JWE (5 parts) starting with a JSON header; API keys never look like that.</summary>
    private static bool IsJwt(string header)
    {
        if (!header.StartsWith("Bearer eyJ", StringComparison.OrdinalIgnoreCase)) return false;
        var dots = header.AsSpan("Bearer ".Length).Count('.');
        return dots is 2 or 4;
    }
}
