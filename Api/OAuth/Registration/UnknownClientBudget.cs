using Dovecote.Api.RateLimiting;
using Microsoft.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Dovecote.Api.OAuth.Registration;

/// <summary>
/// A well-formed client_id that names no client still activates an application grain when looked up, so each address may
/// send only <see cref="RegistrationLimitOptions.UnknownClientIdsPerAddressPerMinute"/> of them to /authorize and /token:
/// the budget is checked before the lookup, and spent when the lookup finds nothing. Malformed ids never reach a grain
/// (<see cref="ClientIds"/>), and metadata-document URLs have the registration budget instead.
/// </summary>
public static class UnknownClientBudget
{
    public const string RateLimitBucket = "unknown-client-ip";

    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors => [AuthorizationHandler.Descriptor, TokenHandler.Descriptor];

    /// <summary>Null when the request may go on, else the refusal.</summary>
    private static async Task<string?> CheckAsync(Dependencies with, OpenIddictServerTransaction transaction, string? clientId,
        CancellationToken cancellationToken)
    {
        var (limiter, documents, applications, limits) = with;
        if (!ClientIds.IsWellFormed(clientId) || documents.IsDocumentUrl(clientId)) return null;
        if (transaction.GetHttpRequest()?.HttpContext is not { } http) return null;
        var address = ClusterRateLimiter.ClientKey(http);
        var rule = (limits.Value.UnknownClientIdsPerAddressPerMinute, TimeSpan.FromMinutes(1));
        const string refusal = "Too many unknown client_ids from this address; try again in a minute.";
        if (!(await limiter.PeekAsync(RateLimitBucket, address, rule)).Allowed) return refusal;
        // OpenIddict's own lookup that follows is served from the manager's entity cache when this one found the client.
        if (await applications.FindByClientIdAsync(clientId!, cancellationToken) is null) await limiter.HitAsync(RateLimitBucket, address, rule);
        return null;
    }

    /// <summary>What both handlers need, resolved per request (the application manager is scoped).</summary>
    private sealed record Dependencies(ClusterRateLimiter Limiter, ClientMetadataDocuments Documents, IOpenIddictApplicationManager Applications,
        IOptions<RegistrationLimitOptions> Limits);

    public sealed class AuthorizationHandler(ClusterRateLimiter limiter, ClientMetadataDocuments documents, IOpenIddictApplicationManager applications,
        IOptions<RegistrationLimitOptions> limits) : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
                .UseScopedHandler<AuthorizationHandler>()
                .SetOrder(OpenIddictServerHandlers.Authentication.ValidateAuthentication.Descriptor.Order - 400)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            var dependencies = new Dependencies(limiter, documents, applications, limits);
            if (await CheckAsync(dependencies, context.Transaction, context.ClientId, context.CancellationToken) is { } refusal)
                context.Reject(Errors.InvalidRequest, refusal);
        }
    }

    public sealed class TokenHandler(ClusterRateLimiter limiter, ClientMetadataDocuments documents, IOpenIddictApplicationManager applications,
        IOptions<RegistrationLimitOptions> limits) : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
                .UseScopedHandler<TokenHandler>()
                .SetOrder(OpenIddictServerHandlers.Exchange.ValidateAuthentication.Descriptor.Order - 400)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            var dependencies = new Dependencies(limiter, documents, applications, limits);
            if (await CheckAsync(dependencies, context.Transaction, context.Request.ClientId, context.CancellationToken) is { } refusal)
                context.Reject(Errors.InvalidRequest, refusal);
        }
    }
}
