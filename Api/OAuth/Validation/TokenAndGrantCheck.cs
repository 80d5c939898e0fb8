using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Api.Security;
using OpenIddict.Validation;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace Dovecote.Api.OAuth.Validation;

/// <summary>
/// Takes the place of OpenIddict's token entry and authorization entry validation at /mcp (RestoreTokenEntryProperties,
/// ValidateTokenEntry, ValidateAuthorizationEntry): the access token's entry must exist, belong to the token's tenant, carry
/// no reference id and be valid, and its grant must be valid too; the entry's dates, grant id and type then replace the
/// token's, as OpenIddict does, so the lifetime check that follows uses the stored expiry. Unlike OpenIddict it remembers
/// a valid answer for a moment (<see cref="TokenStatusCache"/>), and it refuses a token with no entry or no grant.
/// Signature, issuer, audience and expiry are still checked by OpenIddict on every call.
/// </summary>
public sealed class TokenAndGrantCheck(
    TokenStatusCache cache,
    IOpenIddictTokenStore<OAuthToken> tokens,
    IOpenIddictAuthorizationStore<OAuthAuthorization> authorizations) : IOpenIddictValidationHandler<ValidateTokenContext>
{
    public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
        OpenIddictValidationHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseSingletonHandler<TokenAndGrantCheck>()
            .SetOrder(OpenIddictValidationHandlers.Protection.RestoreTokenEntryProperties.Descriptor.Order)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (context.Principal is not { } principal) return;
        // A token's entry is stored under its subject (the account that approved it, or the tenant for a password sign-in);
        // its grant under the tenant, which the grant's subject always is.
        var subject = principal.GetClaim(Claims.Subject);
        var tenant = principal.GetClaim(DovecoteClaims.Tenant);
        var tokenId = principal.GetTokenId();
        if (string.IsNullOrEmpty(subject) || string.IsNullOrEmpty(tenant) || string.IsNullOrEmpty(tokenId)
            || await FindValidTokenAsync(subject, tokenId, context.CancellationToken) is not { } token)
        {
            context.Reject(Errors.InvalidToken, "The specified token is no longer valid.");
            return;
        }
        if (!await IsGrantValidAsync(tenant, token.AuthorizationId, context.CancellationToken))
        {
            context.Reject(Errors.InvalidToken, "The authorization associated with the token is no longer valid.");
            return;
        }
        principal.SetCreationDate(token.CreationDate)
            .SetExpirationDate(token.ExpirationDate)
            .SetAuthorizationId(context.AuthorizationId = token.AuthorizationId)
            .SetTokenId(context.TokenId = tokenId)
            .SetTokenType(token.Type);
    }

    private async ValueTask<ValidAccessToken?> FindValidTokenAsync(string subject, string tokenId, CancellationToken cancellationToken)
    {
        if (cache.TryGetToken(subject, tokenId, out var known)) return known;
        var version = cache.Version;
        // A reference id on a JWT's entry would mean a stored payload used as a token (OpenIddict refuses that too).
        if (await tokens.FindByIdAsync(tokenId, cancellationToken) is not { Status: Statuses.Valid, ReferenceId: null or "" } entry
            || entry.Subject != subject || string.IsNullOrEmpty(entry.AuthorizationId)) return null;
        var token = new ValidAccessToken(entry.AuthorizationId, entry.CreationDate, entry.ExpirationDate, entry.Type);
        cache.RememberToken(subject, tokenId, token, version);
        return token;
    }

    private async ValueTask<bool> IsGrantValidAsync(string tenant, string grantId, CancellationToken cancellationToken)
    {
        if (cache.IsGrantKnownValid(tenant, grantId)) return true;
        var version = cache.Version;
        if (await authorizations.FindByIdAsync(grantId, cancellationToken) is not { Status: Statuses.Valid } grant || grant.Subject != tenant) return false;
        cache.RememberGrant(tenant, grantId, version);
        return true;
    }
}
