using Dovecote.Api.Audit;
using Dovecote.Api.OAuth.Consent;
using Dovecote.Grains.Interfaces.Accounts;

namespace Dovecote.Api.Accounts;

/// <summary>
/// /signin (GET the page, POST the tenant-password form) and /signout (POST). Every answer carries the consent page's
/// headers (CSP, no framing, no caching, no referrer); every post is checked against the CSRF token.
/// </summary>
public static class SignInEndpoints
{
    private const string TenantField = "tenant", PasswordField = "password";

    public static WebApplication MapSignIn(this WebApplication app)
    {
        app.MapGet(AccountSession.SignInPath, ShowAsync);
        app.MapPost(AccountSession.SignInPath, SignInAsync);
        app.MapPost(AccountSession.SignOutPath, SignOutAsync);
        return app;
    }

    private static async Task<IResult> ShowAsync(HttpContext http, ConsentCsrf csrf, SignInProviders providers)
    {
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        var returnUrl = AccountSession.LocalUrlOr(http.Request.Query[AccountSession.ReturnUrlParameter]);
        return SignInPage.Render(await ViewAsync(http, csrf, providers, returnUrl, "", null), StatusCodes.Status200OK);
    }

    private static async Task<IResult> SignInAsync(HttpContext http, ConsentCsrf csrf, SignInProviders providers, TenantPasswords passwords, AuditTrail audit)
    {
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        if (await FormOrNullAsync(http) is not { } form) return NotAForm();
        var returnUrl = AccountSession.LocalUrlOr(form[AccountSession.ReturnUrlParameter]);
        var tenant = form[TenantField].ToString().Trim();
        if (!csrf.IsValid(http, form[ConsentCsrf.FieldName])) return FormExpired();

        var check = await passwords.CheckAsync(http, tenant, form[PasswordField].ToString(), "account.signin.failed", AccountSession.SignInPath);
        if (check is PasswordCheck.Passed)
        {
            await AccountSession.SignInAsync(http, AccountIds.Password(tenant), tenant);
            await audit.RecordAsync(tenant, AccountIds.Password(tenant), "account.signin", AccountIds.PasswordProvider, null, http);
            return Results.Redirect(returnUrl, permanent: false, preserveMethod: false);
        }
        var view = await ViewAsync(http, csrf, providers, returnUrl, tenant, null);
        if (check is PasswordCheck.Limited limited)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(limited.RetryAfter.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString();
            return SignInPage.Render(view with { Error = $"Too many wrong passwords. Try again in {(seconds + 59) / 60} minute(s)." },
                StatusCodes.Status429TooManyRequests);
        }
        return SignInPage.Render(view with { Error = "Wrong tenant or password." }, StatusCodes.Status401Unauthorized);
    }

    private static async Task<IResult> SignOutAsync(HttpContext http, ConsentCsrf csrf)
    {
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        if (await FormOrNullAsync(http) is not { } form) return NotAForm();
        if (!csrf.IsValid(http, form[ConsentCsrf.FieldName])) return FormExpired();
        await AccountSession.SignOutAsync(http);
        return Results.Redirect(AccountSession.SignInPath, permanent: false, preserveMethod: false);
    }

    private static async Task<SignInView> ViewAsync(HttpContext http, ConsentCsrf csrf, SignInProviders providers, string returnUrl, string tenant, string? error)
    {
        var current = await AccountSession.CurrentAsync(http);
        return new SignInView(providers.Links(returnUrl), csrf.Issue(http), returnUrl, tenant, current is null ? null : AccountSession.NameOf(current), error);
    }

    /// <summary>The posted form, or null when the body is not one (or too large to be ours).</summary>
    public static async Task<IFormCollection?> FormOrNullAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType) return null;
        try
        {
            return await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static IResult NotAForm() =>
        ConsentPage.Problem("This form could not be read", "Send the form from the sign-in page.", StatusCodes.Status400BadRequest);

    private static IResult FormExpired() =>
        ConsentPage.Problem("This form has expired", "The form expired or was changed on the way. Open the page and try again.", StatusCodes.Status400BadRequest);
}
