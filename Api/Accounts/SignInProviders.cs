using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Api.Accounts;

/// <summary>The upstream providers that are configured, as the buttons the sign-in and consent pages show.</summary>
public sealed class SignInProviders(IOptions<UpstreamSignInOptions> options)
{
    public const string GitHub = "github";
    public const string Google = "google";
    public const string Microsoft = "microsoft";
    public const string Oidc = "oidc";

    /// <summary>"/signin/{provider}?returnUrl=...": each link starts that provider's sign-in and comes back to <paramref name="returnUrl"/>.</summary>
    public IReadOnlyList<ProviderLink> Links(string returnUrl)
    {
        var links = new List<ProviderLink>(4);
        if (options.Value.GitHubEnabled) links.Add(new ProviderLink("GitHub", StartPath(GitHub, returnUrl)));
        if (options.Value.GoogleEnabled) links.Add(new ProviderLink("Google", StartPath(Google, returnUrl)));
        if (options.Value.MicrosoftEnabled) links.Add(new ProviderLink("Microsoft", StartPath(Microsoft, returnUrl)));
        if (options.Value.OidcEnabled) links.Add(new ProviderLink(options.Value.OidcDisplayName, StartPath(Oidc, returnUrl)));
        return links;
    }

    public static string StartPath(string provider, string returnUrl) =>
        QueryHelpers.AddQueryString($"{AccountSession.SignInPath}/{provider}", AccountSession.ReturnUrlParameter, returnUrl);
}
