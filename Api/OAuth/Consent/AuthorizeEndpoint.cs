using Dovecote.Api.Audit;
using Dovecote.Api.Accounts;
using Dovecote.Api.Security;
using Dovecote.Grains.Interfaces.Accounts;
using Dovecote.Grains.Interfaces.Tenants;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Api.OAuth.Consent;

/// <summary>
/// /authorize after OpenIddict has validated the request (client, redirect URI, PKCE S256, scopes, resource): GET shows
/// the consent page, POST signs the tenant in and issues the code, or sends the refusal back to the client.
/// </summary>
public static class AuthorizeEndpoint
{
    private const string TenantField = "tenant", PasswordField = "password", DecisionField = "decision";
    private static readonly HashSet<string> PageFields = [ConsentCsrf.FieldName, TenantField, PasswordField, DecisionField, ConsentPage.ViaField];

    public static WebApplication MapAuthorize(this WebApplication app)
    {
        app.MapMethods("/authorize", [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync);
        return app;
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext http, IOpenIddictApplicationManager applications, ConsentCsrf csrf, SignInService signIn,
        AccountMemberships memberships, SignInProviders providers)
    {
        var request = http.GetOpenIddictServerRequest();
        var redirect = Uri.TryCreate(request?.RedirectUri, UriKind.Absolute, out var uri) ? uri : null;
        ConsentPage.ApplySecurityHeaders(http.Response, redirect?.GetLeftPart(UriPartial.Authority));

        if (request is null || redirect is null)
            return ConsentPage.Problem(
                "This sign-in link is not valid",
                "This page is reached from an app's Connect button, not directly.",
                StatusCodes.Status400BadRequest);

        var application = await applications.FindByClientIdAsync(request.ClientId!, http.RequestAborted)
            ?? throw new InvalidOperationException("OpenIddict validated a client that does not exist");
        var view = new ConsentView(
            ClientName: await applications.GetDisplayNameAsync(application, http.RequestAborted) ?? request.ClientId!,
            RedirectHost: redirect.IsDefaultPort ? redirect.Host : $"{redirect.Host}:{redirect.Port}",
            Scopes: SignInService.GrantedScopes(request),
            Parameters: request.GetParameters()
                .Where(p => !PageFields.Contains(p.Key))
                .Select(p => KeyValuePair.Create(p.Key, (string?)p.Value ?? ""))
                .ToList(),
            CsrfToken: csrf.Issue(http),
            Tenant: (string?)request[TenantField] ?? "default",
            Error: null);
        // A signed-in person picks one of their tenants; anyone else signs in upstream (back to this page) or types a password.
        var session = await AccountSession.CurrentAsync(http);
        view = session is null
            ? view with { Providers = providers.Links(view.ReturnUrl) }
            : view with { Person = new ConsentPerson(AccountSession.NameOf(session), [.. (await memberships.ForAsync(session)).Select(m => m.Tenant)]) };

        if (HttpMethods.IsGet(http.Request.Method)) return ConsentPage.Render(view, StatusCodes.Status200OK);

        if (!csrf.IsValid(http, (string?)request[ConsentCsrf.FieldName]))
            return ConsentPage.Problem(
                "This form has expired",
                "The form expired or was changed on the way. Go back to the app and connect again.",
                StatusCodes.Status400BadRequest);

        if ((string?)request[DecisionField] != "allow")
            return await signIn.DenyAsync(http, request);

        if ((string?)request[ConsentPage.ViaField] == ConsentPage.ViaSession)
            return await ApproveAsSessionAsync(http, request, application, view, session, memberships, signIn);

        var outcome = await signIn.SignInAsync(http, request, application, view.Tenant, (string?)request[PasswordField] ?? "");
        return outcome switch
        {
            SignInOutcome.Allowed allowed => allowed.Result,
            SignInOutcome.Limited limited => Limited(http, view, limited.RetryAfter),
            SignInOutcome.OverLimit over => ConsentPage.Render(view with { Error = over.Reason }, StatusCodes.Status409Conflict),
            _ => ConsentPage.Render(view with { Error = "Wrong tenant or password." }, StatusCodes.Status401Unauthorized),
        };
    }

    /// <summary>
    /// The signed-in person allows the app for the tenant they picked, which must be one of theirs now (asked of the tenant's
    /// member grain, not taken from the form). The tokens' subject is their account; a tenant-password session stays the tenant.
    /// </summary>
    private static async Task<IResult> ApproveAsSessionAsync(HttpContext http, OpenIddictRequest request, object application, ConsentView view,
        ClaimsPrincipal? session, AccountMemberships memberships, SignInService signIn)
    {
        if (session is null || AccountSession.AccountOf(session) is not { } account)
            return ConsentPage.Render(view with { Person = null, Error = "Your session has ended. Sign in again." }, StatusCodes.Status401Unauthorized);
        if (await memberships.RoleInAsync(session, view.Tenant) is null)
            return ConsentPage.Render(view with { Error = $"You are not a member of tenant '{view.Tenant}'." }, StatusCodes.Status403Forbidden);

        var subject = AccountIds.PasswordTenant(account) is not null ? view.Tenant : account;
        return await signIn.GrantAsync(http, request, application, view.Tenant, subject, account) switch
        {
            SignInOutcome.Allowed allowed => allowed.Result,
            SignInOutcome.OverLimit over => ConsentPage.Render(view with { Error = over.Reason }, StatusCodes.Status409Conflict),
            var other => throw new InvalidOperationException($"a grant to a member cannot end as {other}"),
        };
    }

    private static IResult Limited(HttpContext http, ConsentView view, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString();
        return ConsentPage.Render(
            view with { Error = $"Too many wrong passwords. Try again in {(seconds + 59) / 60} minute(s)." },
            StatusCodes.Status429TooManyRequests);
    }
}

public abstract record SignInOutcome
{
    public sealed record Allowed(IResult Result) : SignInOutcome;
    public sealed record Refused : SignInOutcome;
    public sealed record Limited(TimeSpan RetryAfter) : SignInOutcome;
    public sealed record OverLimit(string Reason) : SignInOutcome;
}

/// <summary>Checks a tenant's password under cluster-wide limits and turns a consent into an OpenIddict grant.</summary>
public sealed class SignInService(
    IGrainFactory grains,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictApplicationManager applications,
    TenantPasswords passwords,
    PublicUrl publicUrl,
    AuditTrail audit)
{
    /// <summary>The scopes a consent grants: what was asked for (notify when nothing was), always with offline_access so a refresh token is issued.</summary>
    public static IReadOnlyList<string> GrantedScopes(OpenIddictRequest request)
    {
        var asked = request.GetScopes().Where(s => s != Scopes.OpenId).ToList();
        if (!asked.Any(s => s != DovecoteScopes.OfflineAccess)) asked.Insert(0, DovecoteScopes.Notify);
        if (!asked.Contains(DovecoteScopes.OfflineAccess)) asked.Add(DovecoteScopes.OfflineAccess);
        return asked;
    }

    public async Task<IResult> DenyAsync(HttpContext http, OpenIddictRequest request)
    {
        await audit.RecordAsync(AuditTrail.SystemTenant, "anonymous", "oauth.authorize.deny", request.ClientId!, null, http);
        var properties = new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.AccessDenied,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The user declined to connect this app.",
        });
        return Results.Forbid(properties, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    public async Task<SignInOutcome> SignInAsync(HttpContext http, OpenIddictRequest request, object application, string tenant, string password)
    {
        return await passwords.CheckAsync(http, tenant, password, "oauth.signin.failed", request.ClientId!) switch
        {
            PasswordCheck.Limited limited => new SignInOutcome.Limited(limited.RetryAfter),
            PasswordCheck.Refused => new SignInOutcome.Refused(),
            _ => await GrantAsync(http, request, application, tenant, subject: tenant, account: AccountIds.Password(tenant)),
        };
    }

    /// <summary>
    /// Issues the code for a person already known to act for <paramref name="tenant"/>. The token's subject is
    /// <paramref name="subject"/>; the grant records <paramref name="account"/>, the account that approved it.
    /// </summary>
    public async Task<SignInOutcome> GrantAsync(HttpContext http, OpenIddictRequest request, object application, string tenant, string subject, string account)
    {
        var scopes = GrantedScopes(request);
        var applicationId = await applications.GetIdAsync(application, http.RequestAborted)
            ?? throw new InvalidOperationException("The application has no id");
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, subject)
            .SetClaim(DovecoteClaims.Tenant, tenant)
            .SetClaim(GrantAccounts.AccountClaim, account)
            .SetClaim(DovecoteClaims.Actor, $"oauth:{request.ClientId}");
        identity.SetScopes(scopes);
        // RFC 8707: tokens are for this server's MCP endpoint; OpenIddict already refused any other resource.
        var resources = request.GetResources();
        identity.SetResources(resources.IsDefaultOrEmpty ? [publicUrl.McpResource] : resources);

        if (await OAuthClientLimit.RefusalAsync(grains, authorizations, tenant, applicationId, http.RequestAborted) is { } overLimit)
            return new SignInOutcome.OverLimit(overLimit);
        // The grant's entry stays under the tenant (the subject its indexes, the tenant's grant list, its client limit and the
        // operator's revoke-all search by) and records the approving account, which the member's removal revokes by.
        var descriptor = new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = applicationId,
            CreationDate = DateTimeOffset.UtcNow,
            Principal = new ClaimsPrincipal(identity),
            Status = Statuses.Valid,
            Subject = tenant,
            Type = AuthorizationTypes.Permanent,
        };
        descriptor.Scopes.UnionWith(scopes);
        GrantAccounts.Record(descriptor, account);
        var authorization = await authorizations.CreateAsync(descriptor, http.RequestAborted);
        identity.SetAuthorizationId(await authorizations.GetIdAsync(authorization, http.RequestAborted));
        identity.SetDestinations(_ => [Destinations.AccessToken]);

        await audit.RecordAsync(tenant, $"oauth:{request.ClientId}", "oauth.authorize", request.ClientId!, $"{string.Join(' ', scopes)}; approved by {account}", http);
        return new SignInOutcome.Allowed(Results.SignIn(
            new ClaimsPrincipal(identity),
            properties: null,
            OpenIddictServerAspNetCoreDefaults.AuthenticationScheme));
    }
}
