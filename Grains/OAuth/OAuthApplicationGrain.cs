using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>
/// One OAuth application keyed by <see cref="OAuthKeys.Application"/> of its client_id, so creation is unique without a
/// separate index. The key may be a hash, so the real client_id is the one in the state. Deleting it cascades to its
/// authorizations (and their tokens) and its authorization-less tokens, as the EF store does.
/// </summary>
[GrainType("oauth-app")]
public sealed class OAuthApplicationGrain(
    [PersistentState("oauth-app")] IPersistentState<OAuthApplicationState> state,
    ILogger<OAuthApplicationGrain> logger) : Grain, IOAuthApplicationGrain
{
    private OAuthApplication? App => state.State.Application;
    private IOAuthApplicationDirectoryGrain Directory(string clientId) => GrainFactory.Shard(clientId);

    Task<OAuthApplication?> IOAuthApplicationGrain.GetAsync() => Task.FromResult(App);

    async Task<string?> IOAuthApplicationGrain.CreateAsync(OAuthApplication application)
    {
        CheckIdentity(application);
        if (App is not null) return null;

        application.ConcurrencyToken = ConcurrencyTokens.New();
        await Directory(application.ClientId!).SetAsync(application.ClientId!, EntryOf(application)); // index first: a listed id with no state is skipped
        state.State.Application = application;
        await state.WriteOrReloadAsync(this);
        return application.ConcurrencyToken;
    }

    async Task<string?> IOAuthApplicationGrain.UpdateAsync(OAuthApplication application, string expectedConcurrencyToken)
    {
        CheckIdentity(application);
        if (App is not { } current || current.ConcurrencyToken != expectedConcurrencyToken) return null;

        // Server-owned fields: a caller's copy may predate MarkUsed, and must not make a used client prunable again.
        application.CreatedAt = current.CreatedAt;
        application.RegistrationKind = current.RegistrationKind;
        application.LastUsedAt = current.LastUsedAt;
        application.ConcurrencyToken = ConcurrencyTokens.New();
        state.State.Application = application;
        await state.WriteOrReloadAsync(this);
        return application.ConcurrencyToken;
    }

    async Task<bool> IOAuthApplicationGrain.DeleteAsync(string? expectedConcurrencyToken)
    {
        if (App is not { } current || (expectedConcurrencyToken is not null && current.ConcurrencyToken != expectedConcurrencyToken)) return false;
        await DeleteWithCascadeAsync(current.ClientId!);
        return true;
    }

    async Task IOAuthApplicationGrain.MarkUsedAsync(DateTimeOffset at)
    {
        if (App is not { } current || current.LastUsedAt is not null) return;
        current.LastUsedAt = at;
        // The concurrency token stays: no OpenIddict field changed, and Update keeps LastUsedAt anyway.
        await state.WriteOrReloadAsync(this);
        await Directory(current.ClientId!).SetAsync(current.ClientId!, EntryOf(current));
    }

    async Task<bool> IOAuthApplicationGrain.DeleteIfUnusedAsync(DateTimeOffset createdBefore)
    {
        if (App is not { } current || current.LastUsedAt is not null || current.CreatedAt >= createdBefore
            || !OAuthRegistrationKinds.IsSelfRegistered(current.RegistrationKind))
            return false;
        await DeleteWithCascadeAsync(current.ClientId!);
        logger.LogInformation("Pruned OAuth client {ClientId} ({Kind}): registered {CreatedAt} and never used",
            current.ClientId, current.RegistrationKind, current.CreatedAt);
        return true;
    }

    /// <summary>Entity first, then its index entry, then everything that hangs off it.</summary>
    private async Task DeleteWithCascadeAsync(string clientId)
    {
        await state.ClearStateAsync();
        // The old single directory may still hold this entry; it must move before the removal, or it would come back.
        await GrainFactory.EnsureLegacyMigratedAsync();
        await Directory(clientId).RemoveAsync(clientId);

        foreach (var id in await GrainFactory.ListIndexAsync(OAuthKeys.ApplicationAuthorizations(clientId)))
            await GrainFactory.GetGrain<IOAuthAuthorizationGrain>(id).DeleteAsync(null);
        foreach (var id in await GrainFactory.ListIndexAsync(OAuthKeys.ApplicationTokens(clientId)))
            await GrainFactory.GetGrain<IOAuthTokenGrain>(id).DeleteAsync(null);
    }

    private void CheckIdentity(OAuthApplication application)
    {
        var key = this.GetPrimaryKeyString();
        if (application.ClientId is not { } clientId || application.Id != clientId || OAuthKeys.Application(clientId) != key
            || (App is { } current && current.ClientId != clientId))
            throw new ArgumentException(
                $"application '{application.Id}' (client_id '{application.ClientId}') does not belong to grain '{key}': "
                + "the client_id is the Id and cannot change");
    }

    private static OAuthDirectoryEntry EntryOf(OAuthApplication application) =>
        new() { CreatedAt = application.CreatedAt, RegistrationKind = application.RegistrationKind, Used = application.LastUsedAt is not null };
}
