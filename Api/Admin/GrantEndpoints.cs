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

    public static async Task<Ok<List<GrantView>>> ListGrants(string tenant, TenantAdministration administration, CancellationToken cancellationToken) =>
        TypedResults.Ok(await administration.ListGrantsAsync(tenant, cancellationToken));

    public static async Task<Results<Ok<RevokeResponse>, NotFound<AdminError>, BadRequest<AdminError>>> Revoke(RevokeRequest? body,
        TenantAdministration administration, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens, AuditTrail audit,
        HttpContext http, CancellationToken cancellationToken)
    {
        if (body is { GrantId: { Length: > 0 } grantId, Tenant: null })
        {
            if (await administration.RevokeGrantAsync(null, grantId, AdminServices.Actor, http, cancellationToken) is not { } revoked)
                return AdminError.NotFound($"grant '{grantId}' does not exist");
            return TypedResults.Ok(new RevokeResponse(revoked ? 1 : 0));
        }
        if (body is { Tenant: { Length: > 0 } owner, GrantId: null })
        {
            if (!GrainKeys.IsValidTenant(owner)) return AdminError.BadRequest("tenant is not a valid tenant id");
            var revoked = await authorizations.RevokeBySubjectAsync(owner, cancellationToken);
            await tokens.RevokeBySubjectAsync(owner, cancellationToken);
            await audit.RecordAsync(owner, AdminServices.Actor, "oauth.grant.revoke_all", owner, $"{revoked} grants", http);
            return TypedResults.Ok(new RevokeResponse(revoked));
        }
        return AdminError.BadRequest("send either {\"grant_id\": \"...\"} or {\"tenant\": \"...\"}");
    }
}
