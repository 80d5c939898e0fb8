using System.Text.Encodings.Web;
using Dovecote.Api.Accounts;
using Dovecote.Api.OAuth.Consent;
using Dovecote.Grains.Interfaces.Accounts;
using static Dovecote.Api.TenantConsole.ConsoleHtml;

namespace Dovecote.Api.TenantConsole;

/// <summary>
/// One console request within a tenant, checked by <see cref="ConsoleEndpoints"/>' filter: the signed-in person is a member
/// (asked of the tenant's member grain on this very request), a post carried a valid CSRF token, and the tenant is entered.
/// </summary>
public sealed record ConsoleRequest(string Tenant, TenantRole Role, string Account, string Name, string Csrf, IFormCollection? Form)
{
    private const string ItemKey = "dovecote.console";

    public static ConsoleRequest Of(HttpContext http) =>
        http.Items[ItemKey] as ConsoleRequest ?? throw new InvalidOperationException("not a console request");

    internal void Attach(HttpContext http) => http.Items[ItemKey] = this;

    public bool IsOwner => Role == TenantRole.Owner;

    /// <summary>"/console/{tenant}/{section}".</summary>
    public string Link(string section) => section.Length == 0 ? "/console" : $"/console/{Tenant}/{section}";

    /// <summary>A posted field, trimmed; "" when absent.</summary>
    public string Field(string name) => Form?[name].ToString().Trim() ?? "";
}

/// <summary>
/// The tenant console at /console: server-rendered pages without script, in the consent page's look and under its CSP and
/// anti-framing headers. Every page and action checks the session's membership in the URL's tenant on the request itself,
/// every post its CSRF token; owners alone manage members. Every change goes through <see cref="Admin.TenantAdministration"/>
/// or <see cref="MemberAdministration"/>, the services behind the admin API, audited with the account as actor.
/// </summary>
public static class ConsoleEndpoints
{
    public const string Root = "/console";

    public static WebApplication MapDovecoteConsole(this WebApplication app)
    {
        app.MapGet(Root, HomeAsync);
        var tenant = app.MapGroup(Root + "/{tenant}").AddEndpointFilter(CheckMemberAsync);
        ChannelPages.Map(tenant);
        TenantPages.Map(tenant);
        OperatorPages.Map(app);
        return app;
    }

    /// <summary>Signed out: to /signin and back. One tenant: its channels. Several: a picker.</summary>
    private static async Task<IResult> HomeAsync(HttpContext http, AccountMemberships memberships, ConsentCsrf csrf)
    {
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        if (await AccountSession.CurrentAsync(http) is not { } session) return SignInFirst(http);
        var tenants = await memberships.ForAsync(session);
        var operatorSession = OperatorPages.IsOperator(http, session);
        if (tenants.Count == 1 && !operatorSession) return Results.Redirect($"{Root}/{tenants[0].Tenant}/channels");
        var token = csrf.Issue(http);
        return ConsentPage.Page("Your tenants · Dovecote", html =>
        {
            Nav(html, token, AccountSession.NameOf(session), null, "");
            html.Append("<h1 id=\"heading\">Your tenants</h1>");
            if (tenants.Count == 0)
                html.Append("<p>You do not belong to any tenant yet. Ask a tenant's owner for an invitation link.</p>");
            else
                html.Table("Your tenants", ["Tenant", "Role"], tenants, t =>
                    [$"<a href=\"{Root}/{E(t.Tenant)}/channels\">{E(t.Tenant)}</a>", E(t.Role.ToString().ToLowerInvariant())], "");
            html.Append("<p><a href=\"").Append(OperatorPages.Root).Append("\">")
                .Append(operatorSession ? "Operator view" : "Operator sign-in").Append("</a></p>");
        }, StatusCodes.Status200OK);
    }

    /// <summary>
    /// The gate of every /console/{tenant} route: headers, session, membership (403 for a tenant the person is not in, whether
    /// or not it exists), CSRF on posts, then the tenant entered; what the grains refuse becomes a 400 or 404 page.
    /// </summary>
    private static async ValueTask<object?> CheckMemberAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        ConsentPage.ApplySecurityHeaders(http.Response, redirectOrigin: null);
        if (await AccountSession.CurrentAsync(http) is not { } session)
            return HttpMethods.IsGet(http.Request.Method)
                ? SignInFirst(http)
                : ConsentPage.Problem("Sign in first", "Your session has ended. Sign in and try again.", StatusCodes.Status401Unauthorized);
        var tenant = http.Request.RouteValues["tenant"] as string;
        var role = await http.RequestServices.GetRequiredService<AccountMemberships>().RoleInAsync(session, tenant);
        if (role is null)
            return ConsentPage.Problem("Not your tenant", "You are not a member of this tenant. Pick one of yours on the console's first page.",
                StatusCodes.Status403Forbidden);
        if (http.Request.RouteValues.TryGetValue("channel", out var channel) && !GrainKeys.IsValidChannelId(channel as string))
            return ConsentPage.Problem("No such channel", "A channel id is letters, digits, '.', '_' or '-'.", StatusCodes.Status404NotFound);

        IFormCollection? form = null;
        var csrf = http.RequestServices.GetRequiredService<ConsentCsrf>();
        if (HttpMethods.IsPost(http.Request.Method))
        {
            form = await SignInEndpoints.FormOrNullAsync(http);
            if (form is null || !csrf.IsValid(http, form[ConsentCsrf.FieldName]))
                return ConsentPage.Problem("This form has expired", "The form expired or was changed on the way. Open the page and try again.",
                    StatusCodes.Status400BadRequest);
        }
        var request = new ConsoleRequest(tenant!, role.Value, AccountSession.AccountOf(session)!, AccountSession.NameOf(session), csrf.Issue(http), form);
        request.Attach(http);

        using var scope = TenantContext.Enter(tenant!);
        try
        {
            return await next(context);
        }
        catch (ArgumentException e)
        {
            return Problem(request, "That did not work", e.Message, StatusCodes.Status400BadRequest);
        }
        catch (NotFoundException e)
        {
            return Problem(request, "Not found", e.Message, StatusCodes.Status404NotFound);
        }
    }

    public static IResult SignInFirst(HttpContext http) => Results.Redirect(
        $"{AccountSession.SignInPath}?{AccountSession.ReturnUrlParameter}={UrlEncoder.Default.Encode(http.Request.Path + http.Request.QueryString)}");

    /// <summary>The page for a refused owner-only action.</summary>
    public static IResult OwnersOnly(ConsoleRequest request) =>
        Problem(request, "Owners only", "Only an owner of this tenant can do that.", StatusCodes.Status403Forbidden);
}
