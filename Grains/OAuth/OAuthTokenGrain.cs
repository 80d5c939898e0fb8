using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>
/// One token entry. It alone writes its reference binding, its entry in its authorization's (or application's)
/// token index and its prune bucket: index first on create, entity first on delete.
/// </summary>
// Most tokens are touched once or twice in their first minutes (issue, redeem), then never again.
[GrainType("oauth-token"), CollectionAgeLimit(Minutes = 5)]
public sealed class OAuthTokenGrain(
    [PersistentState("oauth-token")] IPersistentState<OAuthTokenState> state,
    TimeProvider time) : Grain, IOAuthTokenGrain
{
    /// <summary>A kept token is looked at again this much later; most are short-lived, so few are ever kept.</summary>
    private static readonly TimeSpan Recheck = TimeSpan.FromDays(1);

    private string Id => this.GetPrimaryKeyString();
    private OAuthToken? Token => state.State.Token;

    Task<OAuthToken?> IOAuthTokenGrain.GetAsync() => Task.FromResult(Token);

    async Task<string?> IOAuthTokenGrain.CreateAsync(OAuthToken token)
    {
        CheckIdentity(token);
        if (Token is not null) return null;

        token.CreationDate ??= time.GetUtcNow();
        token.ConcurrencyToken = ConcurrencyTokens.New();
        if (token.ReferenceId is { } reference && !await Reference(reference).BindAsync(Id)) return null;
        if (IndexKey(token) is { } index) await GrainFactory.AddToIndexAsync(index, Id);
        // Before the token exists, so a client holding a token is never pruned as unused.
        if (token.ApplicationId is { Length: > 0 } applicationId)
            await GrainFactory.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(applicationId)).MarkUsedAsync(token.CreationDate.Value);
        await GrainFactory.GetGrain<IOAuthPruneBucketGrain>(OAuthKeys.TokenBucket(token.CreationDate.Value)).AddAsync([Id]);

        state.State.Token = token;
        await state.WriteOrReloadAsync(this);
        return token.ConcurrencyToken;
    }

    async Task<string?> IOAuthTokenGrain.UpdateAsync(OAuthToken token, string expectedConcurrencyToken)
    {
        CheckIdentity(token);
        if (Token is not { } previous || previous.ConcurrencyToken != expectedConcurrencyToken) return null;

        // The reference id is normally set by the update that follows creation; binding it decides uniqueness.
        if (token.ReferenceId is { } reference && reference != previous.ReferenceId && !await Reference(reference).BindAsync(Id)) return null;
        var (index, previousIndex) = (IndexKey(token), IndexKey(previous));
        if (index is not null && index != previousIndex) await GrainFactory.AddToIndexAsync(index, Id);

        token.ConcurrencyToken = ConcurrencyTokens.New();
        state.State.Token = token;
        await state.WriteOrReloadAsync(this);

        if (previous.ReferenceId is { } oldReference && oldReference != token.ReferenceId) await Reference(oldReference).UnbindAsync(Id);
        if (previousIndex is not null && index != previousIndex) await GrainFactory.RemoveFromIndexAsync(previousIndex, Id);
        return token.ConcurrencyToken;
    }

    async Task<bool> IOAuthTokenGrain.DeleteAsync(string? expectedConcurrencyToken)
    {
        if (Token is not { } current || (expectedConcurrencyToken is not null && current.ConcurrencyToken != expectedConcurrencyToken)) return false;
        await DeleteAsync(current);
        return true;
    }

    async Task<bool> IOAuthTokenGrain.RevokeAsync()
    {
        if (Token is not { } current) return false;
        current.Status = OAuthValues.Revoked;
        current.ConcurrencyToken = ConcurrencyTokens.New(); // a copy read before revocation cannot be redeemed
        await state.WriteOrReloadAsync(this);
        return true;
    }

    async Task<OAuthPruneOutcome> IOAuthTokenGrain.PruneAsync(DateTimeOffset threshold, DateTimeOffset now)
    {
        if (Token is not { } current) return OAuthPruneOutcome.Missing;

        // The EF store's rule: created before the threshold, and either no longer usable, or its authorization is not
        // valid (a vanished one counts as not valid), or it has expired.
        var prunable = current.CreationDate < threshold
            && (current.Status is not (OAuthValues.Inactive or OAuthValues.Valid)
                || current.ExpirationDate < now
                || (current.AuthorizationId is { Length: > 0 } authorizationId
                    && (await GrainFactory.GetGrain<IOAuthAuthorizationGrain>(OAuthKeys.Entity(authorizationId)).GetAsync())?.Status != OAuthValues.Valid));
        if (prunable)
        {
            await DeleteAsync(current);
            return OAuthPruneOutcome.Deleted;
        }

        var recheckAt = current.CreationDate > threshold + Recheck ? current.CreationDate.Value : threshold + Recheck;
        await GrainFactory.GetGrain<IOAuthPruneBucketGrain>(OAuthKeys.TokenBucket(recheckAt)).AddAsync([Id]);
        return OAuthPruneOutcome.Kept;
    }

    private async Task DeleteAsync(OAuthToken current)
    {
        await state.ClearStateAsync();
        if (current.ReferenceId is { } reference) await Reference(reference).UnbindAsync(Id);
        if (IndexKey(current) is { } index) await GrainFactory.RemoveFromIndexAsync(index, Id);
        DeactivateOnIdle();
    }

    private IOAuthTokenReferenceGrain Reference(string referenceId) =>
        GrainFactory.GetGrain<IOAuthTokenReferenceGrain>(OAuthKeys.TokenReference(referenceId));

    /// <summary>Tokens are found through their authorization; the few with none (request tokens, client credentials) through their application.</summary>
    private static string? IndexKey(OAuthToken token) =>
        token.AuthorizationId is { Length: > 0 } authorizationId ? OAuthKeys.AuthorizationTokens(authorizationId)
        : token.ApplicationId is { Length: > 0 } applicationId ? OAuthKeys.ApplicationTokens(applicationId)
        : null;

    private void CheckIdentity(OAuthToken token)
    {
        if (token.Id != Id) throw new ArgumentException($"token '{token.Id}' does not belong to grain '{Id}'");
    }
}
