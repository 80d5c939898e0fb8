using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>Reference id → token id. Looked up on every code redemption, then rarely again, hence the short collection age.</summary>
[GrainType("oauth-token-ref"), CollectionAgeLimit(Minutes = 5)]
public sealed class OAuthTokenReferenceGrain(
    [PersistentState("oauth-token-ref")] IPersistentState<OAuthTokenReferenceState> state) : Grain, IOAuthTokenReferenceGrain
{
    async Task<bool> IOAuthTokenReferenceGrain.BindAsync(string tokenId)
    {
        if (state.State.TokenId is { } bound) return bound == tokenId;
        state.State.TokenId = tokenId;
        await state.WriteOrReloadAsync(this);
        return true;
    }

    async Task IOAuthTokenReferenceGrain.UnbindAsync(string tokenId)
    {
        if (state.State.TokenId != tokenId) return;
        await state.ClearStateAsync();
    }

    Task<string?> IOAuthTokenReferenceGrain.GetTokenIdAsync() => Task.FromResult(state.State.TokenId);
}
