using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Api.OAuth.Consent;

/// <summary>
/// The tenant's limit of OAuth clients (limits.oauthClients, Tenants__MaxOAuthClients), counted as the distinct clients
/// among its live grants. Checked at consent, before a grant is created, so no tenant can pile up grant grains without bound;
/// reconnecting a client the tenant already granted is never refused.
/// </summary>
public static class OAuthClientLimit
{
    /// <summary>Null when <paramref name="applicationId"/> may be granted; otherwise the reason, for the consent page.</summary>
    public static async Task<string?> RefusalAsync(IGrainFactory grains, IOpenIddictAuthorizationManager authorizations, string tenant, string applicationId,
        CancellationToken cancellationToken)
    {
        int limit;
        using (TenantContext.Enter(tenant))
            limit = (await grains.GetGrain<ITenantGrain>(tenant).GetLimitsAsync()).OAuthClients;

        var clients = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var authorization in authorizations.FindBySubjectAsync(tenant, cancellationToken))
        {
            if (!await authorizations.HasStatusAsync(authorization, Statuses.Valid, cancellationToken)) continue;
            if (await authorizations.GetApplicationIdAsync(authorization, cancellationToken) is not { } client) continue;
            if (client == applicationId) return null;
            clients.Add(client);
        }
        return clients.Count < limit
            ? null
            : $"Tenant '{tenant}' may connect {limit} OAuth clients and has {clients.Count}. Ask the operator to revoke a grant or raise the limit.";
    }
}
