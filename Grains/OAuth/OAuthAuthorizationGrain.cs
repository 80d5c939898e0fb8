using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>
/// One authorization. It alone writes its entries in the subject and application indexes and its prune bucket:
/// index first on create, entity first on delete, so an index may point at nothing but never misses an entity.
/// </summary>
[GrainType("oauth-authz")]
public sealed class OAuthAuthorizationGrain(
    [PersistentState("oauth-authz")] IPersistentState<OAuthAuthorizationState> state,
    TimeProvider time) : Grain, IOAuthAuthorizationGrain
{
    /// <summary>A kept authorization (usually a live permanent grant) is looked at again this much later.</summary>
    private static readonly TimeSpan Recheck = TimeSpan.FromDays(7);

    private string Id => this.GetPrimaryKeyString();
    private OAuthAuthorization? Authorization => state.State.Authorization;

    Task<OAuthAuthorization?> IOAuthAuthorizationGrain.GetAsync() => Task.FromResult(Authorization);

    async Task<string?> IOAuthAuthorizationGrain.CreateAsync(OAuthAuthorization authorization)
    {
        CheckIdentity(authorization);
        if (Authorization is not null) return null;

        authorization.CreationDate ??= time.GetUtcNow();
        authorization.ConcurrencyToken = ConcurrencyTokens.New();
        await AddIndexEntriesAsync(authorization);
        await GrainFactory.GetGrain<IOAuthPruneBucketGrain>(OAuthKeys.AuthorizationBucket(authorization.CreationDate.Value)).AddAsync([Id]);
        state.State.Authorization = authorization;
        await state.WriteOrReloadAsync(this);
        return authorization.ConcurrencyToken;
    }

    async Task<string?> IOAuthAuthorizationGrain.UpdateAsync(OAuthAuthorization authorization, string expectedConcurrencyToken)
    {
        CheckIdentity(authorization);
        if (Authorization is not { } previous || previous.ConcurrencyToken != expectedConcurrencyToken) return null;

        await AddIndexEntriesAsync(authorization);
        authorization.ConcurrencyToken = ConcurrencyTokens.New();
        state.State.Authorization = authorization;
        await state.WriteOrReloadAsync(this);
        await RemoveIndexEntriesAsync(previous, keep: authorization);
        return authorization.ConcurrencyToken;
    }

    async Task<bool> IOAuthAuthorizationGrain.DeleteAsync(string? expectedConcurrencyToken)
    {
        if (Authorization is not { } current || (expectedConcurrencyToken is not null && current.ConcurrencyToken != expectedConcurrencyToken)) return false;
        await DeleteWithTokensAsync(current);
        return true;
    }

    async Task<bool> IOAuthAuthorizationGrain.RevokeAsync()
    {
        if (Authorization is not { } current) return false;
        current.Status = OAuthValues.Revoked;
        current.ConcurrencyToken = ConcurrencyTokens.New(); // copies read before the revocation are now stale
        await state.WriteOrReloadAsync(this);
        return true;
    }

    async Task<OAuthPruneOutcome> IOAuthAuthorizationGrain.PruneAsync(DateTimeOffset threshold)
    {
        if (Authorization is not { } current) return OAuthPruneOutcome.Missing;

        // The EF store's rule: created before the threshold, and either no longer valid or an ad-hoc grant with no tokens left.
        var prunable = current.CreationDate < threshold
            && (current.Status != OAuthValues.Valid
                || (current.Type == OAuthValues.AdHoc && (await TokenIdsAsync()).Count == 0));
        if (prunable)
        {
            await DeleteWithTokensAsync(current);
            return OAuthPruneOutcome.Deleted;
        }

        var recheckAt = Max(current.CreationDate ?? threshold, threshold + Recheck);
        await GrainFactory.GetGrain<IOAuthPruneBucketGrain>(OAuthKeys.AuthorizationBucket(recheckAt)).AddAsync([Id]);
        return OAuthPruneOutcome.Kept;
    }

    private Task<List<string>> TokenIdsAsync() => GrainFactory.ListIndexAsync(OAuthKeys.AuthorizationTokens(Id));

    private async Task DeleteWithTokensAsync(OAuthAuthorization current)
    {
        await state.ClearStateAsync();
        await RemoveIndexEntriesAsync(current, keep: null);
        foreach (var tokenId in await TokenIdsAsync())
            await GrainFactory.GetGrain<IOAuthTokenGrain>(tokenId).DeleteAsync(null);
    }

    private async Task AddIndexEntriesAsync(OAuthAuthorization authorization)
    {
        foreach (var key in IndexKeys(authorization))
            await GrainFactory.AddToIndexAsync(key, Id);
    }

    private async Task RemoveIndexEntriesAsync(OAuthAuthorization previous, OAuthAuthorization? keep)
    {
        var kept = keep is null ? [] : IndexKeys(keep).ToHashSet();
        foreach (var key in IndexKeys(previous).Where(k => !kept.Contains(k)))
            await GrainFactory.RemoveFromIndexAsync(key, Id);
    }

    private static IEnumerable<string> IndexKeys(OAuthAuthorization authorization)
    {
        if (authorization.Subject is { Length: > 0 } subject) yield return OAuthKeys.SubjectAuthorizations(subject);
        if (authorization.ApplicationId is { Length: > 0 } applicationId) yield return OAuthKeys.ApplicationAuthorizations(applicationId);
    }

    private void CheckIdentity(OAuthAuthorization authorization)
    {
        if (authorization.Id != Id) throw new ArgumentException($"authorization '{authorization.Id}' does not belong to grain '{Id}'");
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
