using Dovecote.Api.Audit;
using Dovecote.Api.RateLimiting;
using Dovecote.Api.Security;
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
    private static readonly HashSet<string> PageFields = [ConsentCsrf.FieldName, TenantField, PasswordField, DecisionField];

    public static WebApplication MapAuthorize(this WebApplication app)
    {
        app.MapMethods("/authorize", [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync);
        return app;
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext http, IOpenIddictApplicationManager applications, ConsentCsrf csrf, SignInService signIn)
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

        if (HttpMethods.IsGet(http.Request.Method)) return ConsentPage.Render(view, StatusCodes.Status200OK);

        if (!csrf.IsValid(http, (string?)request[ConsentCsrf.FieldName]))
            return ConsentPage.Problem(
                "This form has expired",
                "The form expired or was changed on the way. Go back to the app and connect again.",
                StatusCodes.Status400BadRequest);

        if ((string?)request[DecisionField] != "allow")
            return await signIn.DenyAsync(http, request);

        var outcome = await signIn.SignInAsync(http, request, application, view.Tenant, (string?)request[PasswordField] ?? "");
        return outcome switch
        {
            SignInOutcome.Allowed allowed => allowed.Result,
            SignInOutcome.Limited limited => Limited(http, view, limited.RetryAfter),
            SignInOutcome.OverLimit over => ConsentPage.Render(view with { Error = over.Reason }, StatusCodes.Status409Conflict),
            _ => ConsentPage.Render(view with { Error = "Wrong tenant or password." }, StatusCodes.Status401Unauthorized),
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
    ClusterRateLimiter limiter,
    IOptions<OAuthServerOptions> options,
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
        var (perAddress, perTenant) = (options.Value.SignInPerAddress, options.Value.SignInPerTenant);
        var address = ClusterRateLimiter.ClientKey(http);
        var tenantKey = GrainKeys.IsValidTenant(tenant) ? tenant : "invalid";

        // Every attempt is reserved (counted) before the password is looked at, so a right guess past the limit is refused like
        // a wrong one, and concurrent POSTs cannot all pass a check made before any of them is counted. A success gives its
        // reservations back, so the budgets count failures only and people signing in from one office never use them up.
        if (await limiter.HitAsync("signin-fail-ip", address, perAddress) is { Allowed: false } byAddress)
            return new SignInOutcome.Limited(byAddress.RetryAfter);
        if (await limiter.HitAsync("signin-fail-tenant", tenantKey, perTenant) is { Allowed: false } byTenant)
        {
            await limiter.ReleaseAsync("signin-fail-ip", address, perAddress); // this attempt was never evaluated
            return new SignInOutcome.Limited(byTenant.RetryAfter);
        }

        if (!GrainKeys.IsValidTenant(tenant) || !await VerifyAsync(tenant, password))
        {
            if (GrainKeys.IsValidTenant(tenant)) await audit.RecordAsync(tenant, "anonymous", "oauth.signin.failed", request.ClientId!, null, http);
            return new SignInOutcome.Refused();
        }
        await limiter.ReleaseAsync("signin-fail-ip", address, perAddress);
        await limiter.ReleaseAsync("signin-fail-tenant", tenantKey, perTenant);

        var scopes = GrantedScopes(request);
        var applicationId = await applications.GetIdAsync(application, http.RequestAborted)
            ?? throw new InvalidOperationException("The application has no id");
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, tenant)
            .SetClaim(DovecoteClaims.Tenant, tenant)
            .SetClaim(DovecoteClaims.Actor, $"oauth:{request.ClientId}");
        identity.SetScopes(scopes);
        // RFC 8707: tokens are for this server's MCP endpoint; OpenIddict already refused any other resource.
        var resources = request.GetResources();
        identity.SetResources(resources.IsDefaultOrEmpty ? [publicUrl.McpResource] : resources);

        if (await OAuthClientLimit.RefusalAsync(grains, authorizations, tenant, applicationId, http.RequestAborted) is { } overLimit)
            return new SignInOutcome.OverLimit(overLimit);
        var authorization = await authorizations.CreateAsync(identity, tenant, applicationId, AuthorizationTypes.Permanent, [.. scopes], http.RequestAborted);
        identity.SetAuthorizationId(await authorizations.GetIdAsync(authorization, http.RequestAborted));
        identity.SetDestinations(_ => [Destinations.AccessToken]);

        await audit.RecordAsync(tenant, $"oauth:{request.ClientId}", "oauth.authorize", request.ClientId!, string.Join(' ', scopes), http);
        return new SignInOutcome.Allowed(Results.SignIn(
            new ClaimsPrincipal(identity),
            properties: null,
            OpenIddictServerAspNetCoreDefaults.AuthenticationScheme));
    }

    private async Task<bool> VerifyAsync(string tenant, string password)
    {
        using var scope = TenantContext.Enter(tenant);
        return password.Length > 0 && await grains.GetGrain<ITenantGrain>(tenant).VerifyPasswordAsync(password);
    }
}
