using Dovecote.Api.Audit;
using Dovecote.Api.Security;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Dovecote.Api.OAuth;

/// <summary>Audit events for the token and revocation endpoints (/authorize and /register record their own).</summary>
public static class OAuthAudit
{
    // Ordered inside OpenIddict's own handlers: later ones never run once the response is marked as handled.
    public sealed class TokenIssued(AuditTrail audit, IHttpContextAccessor http, ILogger<TokenIssued> logger) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseSingletonHandler<TokenIssued>()
                .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order - 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType != OpenIddictServerEndpointType.Token
                || TenantOf(context.Principal) is not { } tenant) return;
            await RecordAsync(audit, logger, tenant, context.Request.ClientId, "oauth.token", context.Request.GrantType, http.HttpContext);
        }
    }

    public sealed class TokenRevoked(AuditTrail audit, IHttpContextAccessor http, ILogger<TokenRevoked> logger)
        : IOpenIddictServerHandler<HandleRevocationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
                .UseSingletonHandler<TokenRevoked>()
                .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order - 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(HandleRevocationRequestContext context)
        {
            if (context.IsRejected || TenantOf(context.GenericTokenPrincipal) is not { } tenant) return;
            await RecordAsync(audit, logger, tenant, context.Request.ClientId, "oauth.revoke", context.GenericTokenPrincipal!.GetTokenType(), http.HttpContext);
        }
    }

    /// <summary>The grant's tenant: its claim, or the subject of tokens issued before an account could be the subject.</summary>
    private static string? TenantOf(ClaimsPrincipal? principal) =>
        principal?.GetClaim(DovecoteClaims.Tenant) ?? principal?.GetClaim(OpenIddictConstants.Claims.Subject);

    /// <summary>An audit failure is logged, not thrown: the token was already validated, and a 500 here would only confuse the client.</summary>
    private static async Task RecordAsync(AuditTrail audit, ILogger logger, string tenant, string? clientId, string action, string? detail, HttpContext? http)
    {
        try
        {
            await audit.RecordAsync(tenant, $"oauth:{clientId}", action, clientId ?? "unknown", detail, http);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Could not record {Action} for tenant {Tenant} in the audit trail", action, tenant);
        }
    }
}
