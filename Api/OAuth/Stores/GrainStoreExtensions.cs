using Dovecote.Api.OAuth.Validation;
using Dovecote.Grains.Interfaces.OAuth;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dovecote.Api.OAuth.Stores;

public static class GrainStoreExtensions
{
    /// <summary>
    /// Stores OpenIddict's applications, authorizations, tokens and scopes in grains. The stores hold only the grain
    /// factory and this pod's token status cache, so they are singletons; the managers above them stay scoped.
    /// </summary>
    public static OpenIddictCoreBuilder UseGrainStores(this OpenIddictCoreBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        // The stores tell it about every change to a token or grant, so it lives beside them.
        builder.Services.TryAddSingleton<TokenStatusCache>();
        return builder
            .ReplaceApplicationStore<OAuthApplication, GrainApplicationStore>(ServiceLifetime.Singleton)
            .ReplaceAuthorizationStore<OAuthAuthorization, GrainAuthorizationStore>(ServiceLifetime.Singleton)
            .ReplaceTokenStore<OAuthToken, GrainTokenStore>(ServiceLifetime.Singleton)
            .ReplaceScopeStore<OAuthScope, GrainScopeStore>(ServiceLifetime.Singleton)
            // Without these the non-generic managers throw ID0472.
            .SetDefaultApplicationEntity<OAuthApplication>()
            .SetDefaultAuthorizationEntity<OAuthAuthorization>()
            .SetDefaultTokenEntity<OAuthToken>()
            .SetDefaultScopeEntity<OAuthScope>();
    }
}
