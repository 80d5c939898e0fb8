using Dovecote.Grains.Interfaces.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Dovecote.Api.Accounts;

/// <summary>
/// The cookie session of a person in a browser (the consent page, the console): who signed in, as an account id, and the
/// name to greet them with. Memberships are not in the cookie: <see cref="AccountMemberships"/> reads them from the grains on
/// every use, so a removed member loses the tenant at once. The cookie is protected by the cluster's data-protection key
/// ring (the key ring grain), so every Api pod reads every session.
/// </summary>
public static class AccountSession
{
    public const string Scheme = "DovecoteSession";
    public const string CookieName = "dovecote_session";

    /// <summary>An authorization policy for endpoints that need a signed-in person (the console).</summary>
    public const string Policy = "SignedIn";

    /// <summary>"{provider}:{subject}", or "password:{tenant}" for a tenant-password sign-in (<see cref="AccountIds"/>).</summary>
    public const string AccountClaim = "dovecote_account";

    /// <summary>The display name: the upstream name or login, or the tenant id for a password sign-in.</summary>
    public const string NameClaim = "dovecote_name";

    public const string SignInPath = "/signin";
    public const string SignOutPath = "/signout";
    public const string ReturnUrlParameter = "returnUrl";

    public static AuthenticationBuilder AddAccountSession(this AuthenticationBuilder authentication)
    {
        authentication.AddCookie(Scheme, options =>
        {
            options.Cookie.Name = CookieName;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.Cookie.IsEssential = true;
            options.SlidingExpiration = true;
            options.LoginPath = SignInPath;
            options.LogoutPath = SignOutPath;
            options.AccessDeniedPath = SignInPath;
            options.ReturnUrlParameter = ReturnUrlParameter;
        });
        // Secure also behind a TLS-terminating proxy that did not say so, whenever the public URL is https.
        authentication.Services.AddOptions<CookieAuthenticationOptions>(Scheme)
            .Configure<IOptions<AccountOptions>>((cookie, accounts) => cookie.ExpireTimeSpan = accounts.Value.SessionLifetime)
            .PostConfigure<IOptions<Security.OriginOptions>>((cookie, origins) =>
            {
                if (origins.Value.PublicUrl?.Trim().StartsWith("https://", StringComparison.OrdinalIgnoreCase) == true)
                    cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            });
        authentication.Services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(AccountClaim));
        return authentication;
    }

    /// <summary>Starts the session (replacing any other) for <paramref name="accountId"/>.</summary>
    public static Task SignInAsync(HttpContext http, string accountId, string displayName)
    {
        var identity = new ClaimsIdentity([new Claim(AccountClaim, accountId), new Claim(NameClaim, displayName)], Scheme, NameClaim, null);
        return http.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = true });
    }

    public static Task SignOutAsync(HttpContext http) => http.SignOutAsync(Scheme);

    /// <summary>The signed-in person of this request, or null (no cookie, expired, or not readable by this key ring).</summary>
    public static async Task<ClaimsPrincipal?> CurrentAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(Scheme);
        return result.Succeeded && AccountOf(result.Principal) is not null ? result.Principal : null;
    }

    /// <summary>The account id of a session principal, or null when it is not one.</summary>
    public static string? AccountOf(ClaimsPrincipal? user) =>
        user?.FindFirstValue(AccountClaim) is { } account && AccountIds.IsValid(account) ? account : null;

    public static string NameOf(ClaimsPrincipal user) => user.FindFirstValue(NameClaim) ?? AccountOf(user) ?? "";

    /// <summary>Room for a consent page's /authorize URL with a 2,048-character client_id, its redirect URI and state.</summary>
    private const int MaxReturnUrl = 8192;

    /// <summary>
    /// <paramref name="returnUrl"/> when it is a local path ("/console", "/authorize?..."), else <paramref name="fallback"/>:
    /// never another site, a scheme-relative "//host" or a "/\host" that browsers read as one.
    /// </summary>
    public static string LocalUrlOr(string? returnUrl, string fallback = "/console") =>
        returnUrl is { Length: > 0 and <= MaxReturnUrl } url && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
            && !url.Any(char.IsControl)
            ? url
            : fallback;
}
