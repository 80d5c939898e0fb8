using System.Text.Json.Serialization;
using Dovecote.Api.Security;
using OpenIddict.Abstractions;

namespace Dovecote.Api.Admin;

public sealed record RevokeRequest([property: JsonPropertyName("tenant")] string? Tenant, [property: JsonPropertyName("grant_id")] string? GrantId);

/// <summary>OAuth grants (OpenIddict authorizations) seen and revoked by the operator.</summary>
public static class GrantEndpoints
{
    public static WebApplication MapGrantAdmin(this WebApplication app)
    {
        var admin = app.MapAdminGroup();

        admin.MapGet("/tenants/{tenant}/grants", async (string tenant, IOpenIddictAuthorizationManager authorizations, IOpenIddictApplicationManager applications, CancellationToken cancellationToken) =>
        {
            var grants = new List<object>();
            await foreach (var authorization in authorizations.FindBySubjectAsync(tenant, cancellationToken))
            {
                var applicationId = await authorizations.GetApplicationIdAsync(authorization, cancellationToken);
                var application = applicationId is null ? null : await applications.FindByIdAsync(applicationId, cancellationToken);
                grants.Add(new
                {
                    grant_id = await authorizations.GetIdAsync(authorization, cancellationToken),
                    client_id = application is null ? applicationId : await applications.GetClientIdAsync(application, cancellationToken),
                    client_name = application is null ? null : await applications.GetDisplayNameAsync(application, cancellationToken),
                    scopes = await authorizations.GetScopesAsync(authorization, cancellationToken),
                    created_at = await authorizations.GetCreationDateAsync(authorization, cancellationToken),
                    status = await authorizations.GetStatusAsync(authorization, cancellationToken),
                });
            }
            return Results.Ok(grants);
        });

        // One grant, or every grant of a tenant. Each /mcp call checks its grant, so the next call with a revoked grant's token gets 401.
        admin.MapPost("/revoke", async (RevokeRequest? body, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens,
            AuditTrail audit, HttpContext http, CancellationToken cancellationToken) =>
        {
            if (body is { GrantId: { Length: > 0 } grantId, Tenant: null })
            {
                if (await authorizations.FindByIdAsync(grantId, cancellationToken) is not { } authorization)
                    return AdminEndpoints.NotFound($"grant '{grantId}' does not exist");
                var tenant = await authorizations.GetSubjectAsync(authorization, cancellationToken) ?? AuditTrail.SystemTenant;
                var revoked = await authorizations.TryRevokeAsync(authorization, cancellationToken) ? 1 : 0;
                await tokens.RevokeByAuthorizationIdAsync(grantId, cancellationToken);
                await audit.RecordAsync(tenant, "admin", "oauth.grant.revoke", grantId, null, http);
                return Results.Ok(new { revoked });
            }
            if (body is { Tenant: { Length: > 0 } owner, GrantId: null })
            {
                if (!GrainKeys.IsValidTenant(owner)) return AdminEndpoints.BadRequest("tenant is not a valid tenant id");
                var revoked = await authorizations.RevokeBySubjectAsync(owner, cancellationToken);
                await tokens.RevokeBySubjectAsync(owner, cancellationToken);
                await audit.RecordAsync(owner, "admin", "oauth.grant.revoke_all", owner, $"{revoked} grants", http);
                return Results.Ok(new { revoked });
            }
            return AdminEndpoints.BadRequest("send either {\"grant_id\": \"...\"} or {\"tenant\": \"...\"}");
        });
        return app;
    }
}
