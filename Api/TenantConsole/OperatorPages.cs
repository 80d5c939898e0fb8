using System.Security.Cryptography;
using System.Text;
using Dovecote.Api.Accounts;
using Dovecote.Api.Admin;
using Dovecote.Api.OAuth.Consent;
using Dovecote.Grains.Interfaces.Accounts;
using Microsoft.AspNetCore.Authentication;
using static Dovecote.Api.TenantConsole.ConsoleHtml;

namespace Dovecote.Api.TenantConsole;

/// <summary>
/// /console/operator, for whoever holds ADMIN_TOKEN: the token, typed once into a form (checked like /admin's, against the same
/// failure budget), adds an operator claim to the session. The claim is a fingerprint of the token, so rotating ADMIN_TOKEN ends
/// every operator session. The view lists tenants with their usage and suspends or unsuspends them through
/// <see cref="TenantAdministration"/>, like PUT/DELETE /admin/tenants/{tenant}/suspension.
/// </summary>
public static class OperatorPages
{
    public const string Root = "/console/operator";
    public const string OperatorClaim = "dovecote_operator";
    /// <summary>The account of an operator session started without a person signed in.</summary>
    public const string OperatorAccount = "operator:admin";
    public const int TenantsShown = 100;

    public static void Map(WebApplication app)
    {
        // Mapped as literal routes, which win over /console/{tenant}: "operator" cannot be a tenant's console.
        var group = app.MapGroup(Root).AddEndpointFilter(GuardAsync);
        group.MapGet("", ShowAsync);
        group.MapPost("/signin", SignInAsync);
        group.MapPost("/tenants/{tenant}/suspend", (HttpContext http, string tenant, TenantAdministration administration, IGrainFactory grains) =>
            SuspendAsync(http, tenant, suspend: true, administration, grains));
        group.MapPost("/tenants/{tenant}/unsuspend", (HttpContext http, string tenant, TenantAdministration administration, IGrainFactory grains) =>
            SuspendAsync(http, tenant, suspend: false, administration, grains));
    }

    /// <summary>Whether the session carries the fingerprint of the current ADMIN_TOKEN.</summary>
    public static bool IsOperator(HttpContext http, ClaimsPrincipal? session) =>
        session?.FindFirstValue(OperatorClaim) is { } claim && Fingerprint(http) is { } current
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(claim), Encoding.ASCII.GetBytes(current));

    /// <summary>Headers, the CSRF check on posts, and the operator claim on everything but the sign-in form.</summary>
    private static async ValueTask<object?> GuardAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        if (HttpMethods.IsPost(http.Request.Method))
        {
            var form = await SignInEndpoints.FormOrNullAsync(http);
            if (form is null || !http.RequestServices.GetRequiredService<ConsentCsrf>().IsValid(http, form[ConsentCsrf.FieldName]))
                return ConsentPage.Problem("This form has expired", "The form expired or was changed on the way. Open the page and try again.",
                    StatusCodes.Status400BadRequest);
            http.Items[OperatorClaim] = form;
            var signingIn = http.Request.Path.Equals(Root + "/signin", StringComparison.OrdinalIgnoreCase);
            if (!signingIn && !IsOperator(http, await AccountSession.CurrentAsync(http)))
                return ConsentPage.Problem("Operators only", "Sign in as the operator on the operator page first.", StatusCodes.Status403Forbidden);
        }
        try
        {
            return await next(context);
        }
        catch (ArgumentException e)
        {
            return ConsentPage.Problem("That did not work", e.Message, StatusCodes.Status400BadRequest);
        }
        catch (NotFoundException e)
        {
            return ConsentPage.Problem("Not found", e.Message, StatusCodes.Status404NotFound);
        }
    }

    private static async Task<IResult> ShowAsync(HttpContext http, string? after, IGrainFactory grains, TenantAdministration administration, ConsentCsrf csrf)
    {
        var session = await AccountSession.CurrentAsync(http);
        var token = csrf.Issue(http);
        if (!IsOperator(http, session)) return TokenForm(http, session, token, null, StatusCodes.Status200OK);
        if (after is not null && !GrainKeys.IsValidTenant(after))
            return ConsentPage.Problem("That did not work", "after must be a tenant id.", StatusCodes.Status400BadRequest);
        return await TenantsAsync(http, session!, token, after, grains, administration, null);
    }

    private static async Task<IResult> TenantsAsync(HttpContext http, ClaimsPrincipal session, string csrf, string? after, IGrainFactory grains,
        TenantAdministration administration, string? notice)
    {
        var page = await AdminEndpoints.PageTenantsAsync(grains, after, TenantsShown);
        var usage = new List<TenantUsage>();
        foreach (var tenant in page.Tenants)
        {
            using var scope = TenantContext.Enter(tenant.Tenant);
            if (await administration.UsageAsync(tenant.Tenant, http.RequestAborted) is { } found) usage.Add(found);
        }
        return ConsentPage.Page("Operator · Dovecote", html =>
        {
            Nav(html, csrf, AccountSession.NameOf(session), null, "operator");
            html.Append("<h1 id=\"heading\">Operator view</h1>");
            if (notice is not null) html.Append("<p class=\"notice\" role=\"status\">").Append(E(notice)).Append("</p>");
            html.Table("Tenants", ["Tenant", "Name", "Sends/min", "Channels", "API keys", "OAuth clients", "Status", ""], usage, u =>
            [
                $"<code>{E(u.Tenant.Tenant)}</code>", E(u.Tenant.DisplayName), $"{u.SendsThisMinute} / {u.Limits.SendsPerMinute}",
                $"{u.Tenant.Channels} / {u.Limits.Channels}", $"{u.Tenant.ApiKeys} / {u.Limits.ApiKeys}", $"{u.OAuthClients} / {u.Limits.OAuthClients}",
                u.Tenant.SuspendedReason is { } reason ? $"suspended: {E(reason)}" : "active",
                u.Tenant.SuspendedReason is null ? SuspendForm(u.Tenant.Tenant, csrf) : Button($"{Root}/tenants/{u.Tenant.Tenant}/unsuspend", "Unsuspend", csrf),
            ], "No tenants yet.");
            if (page.Next is { } next) html.Append("<p><a rel=\"next\" href=\"").Append(E($"{Root}?after={next}")).Append("\">More tenants</a></p>");
        }, StatusCodes.Status200OK);
    }

    private static string SuspendForm(string tenant, string csrf)
    {
        var html = new StringBuilder();
        html.BeginForm($"{Root}/tenants/{tenant}/suspend", csrf)
            .Append("<input type=\"text\" name=\"reason\" aria-label=\"Reason to suspend ").Append(E(tenant)).Append("\" placeholder=\"reason\" required maxlength=\"200\">")
            .Append("<button type=\"submit\" class=\"small\">Suspend</button></form>");
        return html.ToString();
    }

    private static IResult TokenForm(HttpContext http, ClaimsPrincipal? session, string csrf, string? error, int status) =>
        ConsentPage.Page("Operator sign-in · Dovecote", html =>
        {
            if (session is not null) Nav(html, csrf, AccountSession.NameOf(session), null, "operator");
            html.Append("<h1 id=\"heading\">Operator sign-in</h1><p>Type the operator token (ADMIN_TOKEN) once; this session then sees every tenant.</p>")
                .Alert(error)
                .BeginForm(Root + "/signin", csrf)
                .Append("<label for=\"token\">Operator token</label><input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required>")
                .EndForm("Sign in as operator");
        }, status);

    private static async Task<IResult> SignInAsync(HttpContext http, ConsentCsrf csrf, Audit.AuditTrail audit)
    {
        var form = (IFormCollection)http.Items[OperatorClaim]!;
        var session = await AccountSession.CurrentAsync(http);
        switch (await AdminEndpoints.CheckAdminTokenAsync(http, form["token"].ToString()))
        {
            case AdminTokenCheck.Disabled:
                return ConsentPage.Problem("No operator here", "ADMIN_TOKEN is not set, so there is no operator view.", StatusCodes.Status403Forbidden);
            case AdminTokenCheck.Limited limited:
                var seconds = Math.Max(1, (int)Math.Ceiling(limited.Decision.RetryAfter.TotalSeconds));
                http.Response.Headers.RetryAfter = seconds.ToString();
                return TokenForm(http, session, csrf.Issue(http), $"Too many wrong tokens. Try again in {seconds} s.", StatusCodes.Status429TooManyRequests);
            case AdminTokenCheck.Wrong:
                await audit.RecordAsync(Audit.AuditTrail.SystemTenant, AccountSession.AccountOf(session) ?? "anonymous", "operator.signin.failed", Root, null, http);
                return TokenForm(http, session, csrf.Issue(http), "That is not the operator token.", StatusCodes.Status401Unauthorized);
        }
        // The person's session, or a new operator-only one, with the token's fingerprint added.
        var account = AccountSession.AccountOf(session) ?? OperatorAccount;
        var name = session is null ? "Operator" : AccountSession.NameOf(session);
        var identity = new ClaimsIdentity(
            [new Claim(AccountSession.AccountClaim, account), new Claim(AccountSession.NameClaim, name), new Claim(OperatorClaim, Fingerprint(http)!)],
            AccountSession.Scheme, AccountSession.NameClaim, null);
        await http.SignInAsync(AccountSession.Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = true });
        await audit.RecordAsync(Audit.AuditTrail.SystemTenant, account, "operator.signin", Root, null, http);
        return Results.Redirect(Root, permanent: false, preserveMethod: false);
    }

    private static async Task<IResult> SuspendAsync(HttpContext http, string tenant, bool suspend, TenantAdministration administration, IGrainFactory grains)
    {
        if (!GrainKeys.IsValidTenant(tenant)) return ConsentPage.Problem("Not found", "That is not a tenant id.", StatusCodes.Status404NotFound);
        var form = (IFormCollection)http.Items[OperatorClaim]!;
        var session = (await AccountSession.CurrentAsync(http))!;
        var reason = form["reason"].ToString().Trim();
        if (suspend && reason.Length == 0)
            return ConsentPage.Problem("That did not work", "Give a reason: it is what the tenant's senders are told.", StatusCodes.Status400BadRequest);
        using (TenantContext.Enter(tenant))
            await administration.SetSuspensionAsync(tenant, suspend ? reason : null, AccountSession.AccountOf(session)!, http);
        var csrf = http.RequestServices.GetRequiredService<ConsentCsrf>().Issue(http);
        return await TenantsAsync(http, session, csrf, null, grains, administration, $"Tenant '{tenant}' {(suspend ? "suspended" : "unsuspended")}.");
    }

    /// <summary>A fingerprint of ADMIN_TOKEN (never the token), or null when there is no operator.</summary>
    private static string? Fingerprint(HttpContext http) =>
        http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.EffectiveToken is { Length: > 0 } token
            ? Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "dovecote-operator-session"u8))[..32]
            : null;
}
