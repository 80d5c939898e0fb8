using System.Net.Http.Headers;
using System.Text.Json;
using Dovecote.Grains.Interfaces.Accounts;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Client.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Api.Accounts;

/// <summary>A person the upstream provider vouched for, or why they may not come in.</summary>
public abstract record UpstreamIdentity
{
    public sealed record Allowed(string AccountId, string DisplayName, string? Email, string Handle) : UpstreamIdentity;
    public sealed record Refused(string Provider, string Who, string Reason) : UpstreamIdentity;
}

/// <summary>
/// Turns what OpenIddict's client validated (the provider's userinfo, and for Google, Microsoft and OIDC its identity token)
/// into an account id, and applies the operator's allowlists: GitHub logins or organisations; e-mail domains for the others,
/// checked only against an address the provider vouches for. Google: its <c>email_verified</c>. Microsoft: Entra's
/// <c>email</c> (and <c>preferred_username</c>) can be typed by a tenant's administrator for any domain, so only an address
/// whose domain Microsoft checked counts, which the optional ID-token claim <c>xms_edov</c> ("email domain owner verified")
/// says; the app registration must ask for it. OIDC: <c>email_verified</c>.
/// </summary>
public sealed class UpstreamIdentities(IOptions<UpstreamSignInOptions> options, IHttpClientFactory http, ILogger<UpstreamIdentities> logger)
{
    public const string GitHubApiClient = "github-api";

    /// <summary>Microsoft's optional ID-token claim: the domain of the user's e-mail address was verified by its owner.</summary>
    public const string MicrosoftDomainVerifiedClaim = "xms_edov";
    private const int MaxOrgPages = 10;

    public async Task<UpstreamIdentity> ResolveAsync(string provider, ClaimsPrincipal principal, AuthenticationProperties? properties, CancellationToken cancellationToken) =>
        provider switch
        {
            SignInProviders.GitHub => await GitHubAsync(principal, properties, cancellationToken),
            SignInProviders.Google => ByEmail(SignInProviders.Google, principal, "Google", IsTrue(principal.FindFirstValue(Claims.EmailVerified))),
            SignInProviders.Microsoft => ByEmail(SignInProviders.Microsoft, principal, "Microsoft", IsTrue(principal.FindFirstValue(MicrosoftDomainVerifiedClaim))),
            SignInProviders.Oidc => ByEmail(SignInProviders.Oidc, principal, "Your identity provider", IsTrue(principal.FindFirstValue(Claims.EmailVerified))),
            _ => new UpstreamIdentity.Refused(provider, "unknown", "This sign-in provider is not configured."),
        };

    private async Task<UpstreamIdentity> GitHubAsync(ClaimsPrincipal principal, AuthenticationProperties? properties, CancellationToken cancellationToken)
    {
        // GitHub's /user: "id" (numeric, stable for the account's life) and "login" (which its owner may rename).
        var id = principal.FindFirstValue(ClaimTypes.NameIdentifier);
        var login = principal.FindFirstValue("login");
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(login) || !AccountIds.IsValid(AccountIds.Of(SignInProviders.GitHub, id)))
            return new UpstreamIdentity.Refused(SignInProviders.GitHub, login ?? "unknown", "GitHub did not say who you are.");

        var users = UpstreamSignInOptions.List(options.Value.GitHubAllowedUsers);
        var orgs = UpstreamSignInOptions.List(options.Value.GitHubAllowedOrgs);
        var allowed = users.Count == 0 && orgs.Count == 0 || users.Contains(login);
        if (!allowed && orgs.Count > 0)
        {
            var token = properties?.GetTokenValue(OpenIddictClientAspNetCoreConstants.Tokens.BackchannelAccessToken);
            allowed = token is not null && (await OrganisationsAsync(token, cancellationToken)).Overlaps(orgs);
        }
        if (!allowed)
            return new UpstreamIdentity.Refused(SignInProviders.GitHub, login,
                $"The GitHub account '{login}' is not allowed to sign in here. Ask the operator to add it (or one of its organisations) to the allowlist.");
        var name = principal.FindFirstValue(ClaimTypes.Name);
        return new UpstreamIdentity.Allowed(AccountIds.Of(SignInProviders.GitHub, id), string.IsNullOrWhiteSpace(name) ? login : name, principal.FindFirstValue(ClaimTypes.Email), login);
    }

    /// <summary>The logins of the person's organisations (GET /user/orgs, paged), or none when GitHub does not answer.</summary>
    private async Task<HashSet<string>> OrganisationsAsync(string accessToken, CancellationToken cancellationToken)
    {
        var found = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var client = http.CreateClient(GitHubApiClient);
        for (var page = 1; page <= MaxOrgPages; page++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{options.Value.GitHubApiBaseUrl.TrimEnd('/')}/user/orgs?per_page=100&page={page}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            request.Headers.Accept.ParseAdd("application/vnd.github+json");
            request.Headers.UserAgent.ParseAdd("Dovecote");
            try
            {
                using var response = await client.SendAsync(request, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    logger.LogWarning("GitHub GET /user/orgs answered {Status}", (int)response.StatusCode);
                    return found;
                }
                using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
                if (json.RootElement.ValueKind != JsonValueKind.Array) return found;
                var count = 0;
                foreach (var org in json.RootElement.EnumerateArray())
                {
                    count++;
                    if (org.ValueKind == JsonValueKind.Object && org.TryGetProperty("login", out var name) && name.ValueKind == JsonValueKind.String)
                        found.Add(name.GetString()!);
                }
                if (count < 100) return found;
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("GitHub GET /user/orgs failed: {Error}", e.GetType().Name);
                return found;
            }
        }
        return found;
    }

    /// <summary>
    /// An OpenID Connect person (Google, Microsoft, the generic provider): the account is the provider's signed <c>sub</c>, and
    /// with a domain allowlist the address must be one the provider vouches for (<paramref name="emailVouched"/>).
    /// <paramref name="providerName"/> starts the refusal's sentence ("Google did not ...").
    /// </summary>
    private UpstreamIdentity ByEmail(string provider, ClaimsPrincipal principal, string providerName, bool emailVouched)
    {
        var subject = principal.FindFirstValue(Claims.Subject);
        var email = principal.FindFirstValue(Claims.Email);
        var who = email ?? subject ?? "unknown";
        if (string.IsNullOrEmpty(subject) || !AccountIds.IsValid(AccountIds.Of(provider, subject)))
            return new UpstreamIdentity.Refused(provider, who, $"{providerName} did not say who you are.");

        var domains = UpstreamSignInOptions.List(options.Value.OidcAllowedDomains);
        if (domains.Count > 0)
        {
            // An unverified address proves nothing: anyone can type someone@yourcompany.example into a profile.
            var domain = email?.LastIndexOf('@') is int at and > 0 ? email[(at + 1)..] : null;
            if (!emailVouched || domain is null || !domains.Contains(domain))
                return new UpstreamIdentity.Refused(provider, who, emailVouched && domain is not null
                    ? $"The address '{email}' is not in a domain allowed to sign in here."
                    : $"{providerName} did not confirm your e-mail address, so it cannot be checked against the allowed domains.");
        }
        var name = principal.FindFirstValue(Claims.Name) ?? principal.FindFirstValue(Claims.PreferredUsername) ?? email ?? subject;
        return new UpstreamIdentity.Allowed(AccountIds.Of(provider, subject), name, email, email ?? subject);
    }

    private static bool IsTrue(string? claim) => string.Equals(claim, "true", StringComparison.OrdinalIgnoreCase) || claim == "1";
}
