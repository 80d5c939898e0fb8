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

    /// <summary>A compact JWS (3 parts) or JWE (5 parts) starting with a JSON header; API keys never look like that.</summary>
    private static bool IsJwt(string header)
    {
        if (!header.StartsWith("Bearer eyJ", StringComparison.OrdinalIgnoreCase)) return false;
        var dots = header.AsSpan("Bearer ".Length).Count('.');
        return dots is 2 or 4;
    }
}
