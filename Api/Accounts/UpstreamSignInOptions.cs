using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Accounts;

/// <summary>
/// The upstream identity providers people sign in with: GitHub (an OAuth app), Google, Microsoft (personal accounts and
/// Entra ID) and any OpenID Connect provider by its discovery URL. A provider is on when its client id is set; with none,
/// the tenant password is the only way in. The e-mail-domain allowlist applies to Google, Microsoft and OIDC alike.
/// </summary>
public sealed class UpstreamSignInOptions
{
    [ConfigurationKeyName("DOVECOTE_GITHUB_CLIENT_ID"), StringLength(200), CustomValidation(typeof(UpstreamSignInOptions), nameof(CheckGitHub))]
    public string? GitHubClientId { get; set; }

    [ConfigurationKeyName("DOVECOTE_GITHUB_CLIENT_SECRET"), StringLength(500)]
    public string? GitHubClientSecret { get; set; }

    /// <summary>Comma-separated GitHub logins allowed in (case-insensitive).</summary>
    [ConfigurationKeyName("DOVECOTE_GITHUB_ALLOWED_USERS")]
    public string? GitHubAllowedUsers { get; set; }

    /// <summary>Comma-separated GitHub organisations whose members are allowed in (asks for the read:org scope).</summary>
    [ConfigurationKeyName("DOVECOTE_GITHUB_ALLOWED_ORGS")]
    public string? GitHubAllowedOrgs { get; set; }

    /// <summary>GitHub's web origin (authorize) and API origin (token exchange is on the web origin, /user on the API); tests point them at a fake.</summary>
    [ConfigurationKeyName("DOVECOTE_GITHUB_BASE_URL"), Url]
    public string GitHubBaseUrl { get; set; } = UpstreamSignInExtensions.GitHubDefaults.Web;

    [ConfigurationKeyName("DOVECOTE_GITHUB_API_BASE_URL"), Url]
    public string GitHubApiBaseUrl { get; set; } = UpstreamSignInExtensions.GitHubDefaults.Api;

    [ConfigurationKeyName("DOVECOTE_GOOGLE_CLIENT_ID"), StringLength(200), CustomValidation(typeof(UpstreamSignInOptions), nameof(CheckGoogle))]
    public string? GoogleClientId { get; set; }

    [ConfigurationKeyName("DOVECOTE_GOOGLE_CLIENT_SECRET"), StringLength(500)]
    public string? GoogleClientSecret { get; set; }

    [ConfigurationKeyName("DOVECOTE_MICROSOFT_CLIENT_ID"), StringLength(200), CustomValidation(typeof(UpstreamSignInOptions), nameof(CheckMicrosoft))]
    public string? MicrosoftClientId { get; set; }

    [ConfigurationKeyName("DOVECOTE_MICROSOFT_CLIENT_SECRET"), StringLength(500)]
    public string? MicrosoftClientSecret { get; set; }

    /// <summary>
    /// The Entra tenant whose people may sign in: "common" (any work or personal account), "organizations", "consumers",
    /// or one organisation's tenant id or domain (then only its people get in, whatever their address).
    /// </summary>
    [ConfigurationKeyName("DOVECOTE_MICROSOFT_TENANT"), RegularExpression(@"^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$",
         ErrorMessage = "DOVECOTE_MICROSOFT_TENANT must be common, organizations, consumers, a tenant id or a tenant domain")]
    public string MicrosoftTenant { get; set; } = "common";

    /// <summary>The OpenID Connect issuer; its /.well-known/openid-configuration is read at start.</summary>
    [ConfigurationKeyName("DOVECOTE_OIDC_AUTHORITY"), Url, CustomValidation(typeof(UpstreamSignInOptions), nameof(CheckOidc))]
    public string? OidcAuthority { get; set; }

    [ConfigurationKeyName("DOVECOTE_OIDC_CLIENT_ID"), StringLength(200)]
    public string? OidcClientId { get; set; }

    [ConfigurationKeyName("DOVECOTE_OIDC_CLIENT_SECRET"), StringLength(500)]
    public string? OidcClientSecret { get; set; }

    /// <summary>
    /// Comma-separated e-mail domains allowed in through Google, Microsoft and OIDC; the provider must vouch for the address
    /// (see <see cref="UpstreamIdentities"/> for what each one's proof is).
    /// </summary>
    [ConfigurationKeyName("DOVECOTE_OIDC_ALLOWED_DOMAINS")]
    public string? OidcAllowedDomains { get; set; }

    /// <summary>The label of the OIDC button ("Sign in with ...").</summary>
    [ConfigurationKeyName("DOVECOTE_OIDC_DISPLAY_NAME"), StringLength(60)]
    public string OidcDisplayName { get; set; } = "single sign-on";

    public bool GitHubEnabled => !string.IsNullOrWhiteSpace(GitHubClientId);
    public bool GoogleEnabled => !string.IsNullOrWhiteSpace(GoogleClientId);
    public bool MicrosoftEnabled => !string.IsNullOrWhiteSpace(MicrosoftClientId);
    public bool OidcEnabled => !string.IsNullOrWhiteSpace(OidcAuthority) && !string.IsNullOrWhiteSpace(OidcClientId);

    /// <summary>A GitHub client id needs its secret: GitHub refuses the code exchange without one.</summary>
    public static ValidationResult? CheckGitHub(string? clientId, ValidationContext context) =>
        string.IsNullOrWhiteSpace(clientId) || !string.IsNullOrWhiteSpace(((UpstreamSignInOptions)context.ObjectInstance).GitHubClientSecret)
            ? ValidationResult.Success
            : new ValidationResult($"{context.DisplayName} is set but DOVECOTE_GITHUB_CLIENT_SECRET is not");

    /// <summary>Google refuses the code exchange of a web application without its secret.</summary>
    public static ValidationResult? CheckGoogle(string? clientId, ValidationContext context) =>
        string.IsNullOrWhiteSpace(clientId) || !string.IsNullOrWhiteSpace(((UpstreamSignInOptions)context.ObjectInstance).GoogleClientSecret)
            ? ValidationResult.Success
            : new ValidationResult($"{context.DisplayName} is set but DOVECOTE_GOOGLE_CLIENT_SECRET is not");

    /// <summary>A server-side ("web") app registration at Microsoft redeems its codes with a client secret.</summary>
    public static ValidationResult? CheckMicrosoft(string? clientId, ValidationContext context) =>
        string.IsNullOrWhiteSpace(clientId) || !string.IsNullOrWhiteSpace(((UpstreamSignInOptions)context.ObjectInstance).MicrosoftClientSecret)
            ? ValidationResult.Success
            : new ValidationResult($"{context.DisplayName} is set but DOVECOTE_MICROSOFT_CLIENT_SECRET is not");

    /// <summary>An OIDC authority and its client id come together, and the authority is an absolute http(s) URL.</summary>
    public static ValidationResult? CheckOidc(string? authority, ValidationContext context)
    {
        var clientId = ((UpstreamSignInOptions)context.ObjectInstance).OidcClientId;
        if (string.IsNullOrWhiteSpace(authority) != string.IsNullOrWhiteSpace(clientId))
            return new ValidationResult($"{context.DisplayName} and DOVECOTE_OIDC_CLIENT_ID must be set together");
        return string.IsNullOrWhiteSpace(authority) || Uri.TryCreate(authority.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
            ? ValidationResult.Success
            : new ValidationResult($"{context.DisplayName} must be the provider's absolute https URL (its issuer)");
    }

    public static IReadOnlySet<string> List(string? commaSeparated) =>
        new HashSet<string>(commaSeparated?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
            StringComparer.OrdinalIgnoreCase);
}
