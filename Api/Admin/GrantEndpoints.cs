using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Dovecote.Api.Audit;
using Dovecote.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dovecote.Api.Admin;

public sealed record RevokeRequest([property: JsonPropertyName("tenant")] string? Tenant, [property: JsonPropertyName("grant_id")] string? GrantId);

public sealed record RevokeResponse([property: JsonPropertyName("revoked")] long Revoked);

/// <summary>An OAuth grant as the operator sees it: who, which client, what scopes. No token values.</summary>
public sealed record GrantView(
    [property: JsonPropertyName("grant_id")] string? GrantId,
    [property: JsonPropertyName("client_id")] string? ClientId,
    [property: JsonPropertyName("client_name")] string? ClientName,
    [property: JsonPropertyName("scopes")] ImmutableArray<string> Scopes,
    [property: JsonPropertyName("created_at")] DateTimeOffset? CreatedAt,
    [property: JsonPropertyName("status")] string? Status);

/// <summary>OAuth grants (OpenIddict authorizations) seen and revoked by the operator.</summary>
public static class GrantEndpoints
{
    public static WebApplication MapGrantAdmin(this WebApplication app)
    {
        app.MapTenantGroup().MapGet("/grants", ListGrants);
        // One grant, or every grant of a tenant. Each /mcp call checks its grant, so the next call with a revoked grant's token gets 401.
        app.MapAdminGroup().MapPost("/revoke", Revoke);
        return app;
    }

    public static async Task<Ok<List<GrantView>>> ListGrants(
        string tenant,
        IOpenIddictAuthorizationManager authorizations,
        IOpenIddictApplicationManager applications,
        CancellationToken cancellationToken)
    {
        var grants = new List<GrantView>();
        await foreach (var authorization in authorizations.FindBySubjectAsync(tenant, cancellationToken))
        {
            var applicationId = await authorizations.GetApplicationIdAsync(authorization, cancellationToken);
            var application = applicationId is null ? null : await applications.FindByIdAsync(applicationId, cancellationToken);
            grants.Add(new GrantView(
                await authorizations.GetIdAsync(authorization, cancellationToken),
                application is null ? applicationId : await applications.GetClientIdAsync(application, cancellationToken),
                application is null ? null : await applications.GetDisplayNameAsync(application, cancellationToken),
                await authorizations.GetScopesAsync(authorization, cancellationToken),
                await authorizations.GetCreationDateAsync(authorization, cancellationToken),
                await authorizations.GetStatusAsync(authorization, cancellationToken)));
        }
        return TypedResults.Ok(grants);
    }

    public static async Task<Results<Ok<RevokeResponse>, NotFound<AdminError>, BadRequest<AdminError>>> Revoke(RevokeRequest? body,
        IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens, AuditTrail audit, HttpContext http, CancellationToken cancellationToken)
    {
        if (body is { GrantId: { Length: > 0 } grantId, Tenant: null })
        {
            if (await authorizations.FindByIdAsync(grantId, cancellationToken) is not { } authorization)
                return AdminError.NotFound($"grant '{grantId}' does not exist");
            var tenant = await authorizations.GetSubjectAsync(authorization, cancellationToken) ?? AuditTrail.SystemTenant;
            var revoked = await authorizations.TryRevokeAsync(authorization, cancellationToken) ? 1 : 0;
            await tokens.RevokeByAuthorizationIdAsync(grantId, cancellationToken);
            await audit.RecordAsync(tenant, "admin", "oauth.grant.revoke", grantId, null, http);
            return TypedResults.Ok(new RevokeResponse(revoked));
        }
        if (body is { Tenant: { Length: > 0 } owner, GrantId: null })
        {
            if (!GrainKeys.IsValidTenant(owner)) return AdminError.BadRequest("tenant is not a valid tenant id");
            var revoked = await authorizations.RevokeBySubjectAsync(owner, cancellationToken);
            await tokens.RevokeBySubjectAsync(owner, cancellationToken);
            await audit.RecordAsync(owner, "admin", "oauth.grant.revoke_all", owner, $"{revoked} grants", http);
            return TypedResults.Ok(new RevokeResponse(revoked));
        }
        return AdminError.BadRequest("send either {\"grant_id\": \"...\"} or {\"tenant\": \"...\"}");
    }
}
