using System.Text.Encodings.Web;
using Dovecote.Api.Audit;
using Dovecote.Api.OAuth.Consent;
using Dovecote.Grains.Interfaces.Accounts;

namespace Dovecote.Api.Accounts;

/// <summary>
/// The invitation link: GET shows who invites you to which tenant and a button (so a link preview never uses it up), POST
/// (CSRF-checked) joins with the signed-in account. The link's token is checked by the tenant's member grain.
/// </summary>
public static class InvitationEndpoints
{
    private const string TokenField = "token";

    public static WebApplication MapInvitations(this WebApplication app)
    {
        app.MapGet(MemberAdministration.AcceptPath, ShowAsync);
        app.MapPost(MemberAdministration.AcceptPath, AcceptAsync);
        return app;
    }

    private static async Task<IResult> ShowAsync(HttpContext http, ConsentCsrf csrf)
    {
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        var token = http.Request.Query[TokenField].ToString();
        if (!InvitationTokens.TryParse(token, out var tenant, out _, out _)) return NotValid();
        var returnUrl = $"{MemberAdministration.AcceptPath}?{TokenField}={Uri.EscapeDataString(token)}";
        var session = await AccountSession.CurrentAsync(http);
        if (session is null) return Results.Redirect($"{AccountSession.SignInPath}?{AccountSession.ReturnUrlParameter}={Uri.EscapeDataString(returnUrl)}");
        if (AccountIds.PasswordTenant(AccountSession.AccountOf(session)!) is not null) return PasswordSession();

        return ConsentPage.Page("Join a tenant on Dovecote", html =>
        {
            var h = HtmlEncoder.Default;
            html.Append("<h1 id=\"heading\">Join <strong>").Append(h.Encode(tenant)).Append("</strong>?</h1>")
                .Append("<p>You are signed in as <strong>").Append(h.Encode(AccountSession.NameOf(session))).Append("</strong>. ")
                .Append("Joining lets you connect apps to this tenant and manage it in the console.</p>")
                .Append("<form method=\"post\" action=\"").Append(MemberAdministration.AcceptPath).Append("\">")
                .Hidden(TokenField, token).Hidden(ConsentCsrf.FieldName, csrf.Issue(http))
                .Append("<div class=\"actions\"><button type=\"submit\" class=\"allow\">Join</button></div></form>");
        }, StatusCodes.Status200OK);
    }

    private static async Task<IResult> AcceptAsync(HttpContext http, ConsentCsrf csrf, IGrainFactory grains, AuditTrail audit)
    {
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        if (await SignInEndpoints.FormOrNullAsync(http) is not { } form || !csrf.IsValid(http, form[ConsentCsrf.FieldName]))
            return ConsentPage.Problem("This form has expired", "Open the invitation link again.", StatusCodes.Status400BadRequest);
        if (!InvitationTokens.TryParse(form[TokenField], out var tenant, out var invitationId, out var secret)) return NotValid();
        if (await AccountSession.CurrentAsync(http) is not { } session)
            return ConsentPage.Problem("Sign in first", "Open the invitation link again and sign in.", StatusCodes.Status401Unauthorized);
        var account = AccountSession.AccountOf(session)!;
        if (AccountIds.PasswordTenant(account) is not null) return PasswordSession();

        InvitationOutcome outcome;
        using (TenantContext.Enter(tenant))
            outcome = await grains.GetGrain<ITenantMembersGrain>(AccountIds.Members(tenant)).AcceptAsync(invitationId, secret, account, AccountSession.NameOf(session));
        await audit.RecordAsync(tenant, account, outcome is InvitationOutcome.Accepted ? "account.invitation.accept" : "account.invitation.refused",
            invitationId, outcome.ToString().ToLowerInvariant(), http);
        return outcome switch
        {
            InvitationOutcome.Accepted or InvitationOutcome.AlreadyMember => Results.Redirect("/console"),
            InvitationOutcome.Expired => ConsentPage.Problem("This invitation has expired",
                "Ask the tenant's owner for a new invitation link.", StatusCodes.Status410Gone),
            _ => NotValid(),
        };
    }

    private static IResult NotValid() => ConsentPage.Problem("This invitation is not valid",
        "The link was already used, withdrawn or mistyped. Ask the tenant's owner for a new one.", StatusCodes.Status404NotFound);

    private static IResult PasswordSession() => ConsentPage.Problem("Sign in with your own account",
        "An invitation makes a person a member. You are signed in with a tenant's password: sign out, then sign in with GitHub or single sign-on.",
        StatusCodes.Status409Conflict);
}
