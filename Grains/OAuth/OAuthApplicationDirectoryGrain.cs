using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>
/// The list of applications. One grain: clients are few, and self-registered ones that stay unused are pruned.
/// Ensures the pruner on the first registration, so a deployment prunes as soon as it has anything to prune.
/// </summary>
[GrainType("oauth-app-directory")]
public sealed class OAuthApplicationDirectoryGrain(
    [PersistentState("oauth-app-directory")] IPersistentState<OAuthApplicationDirectoryState> state) : Grain, IOAuthApplicationDirectoryGrain
{
    async Task IOAuthApplicationDirectoryGrain.SetAsync(string clientId, OAuthDirectoryEntry entry)
    {
        if (!state.State.PrunerStarted)
        {
            await GrainFactory.GetGrain<IOAuthPrunerGrain>(OAuthKeys.Singleton).EnsureStartedAsync();
            state.State.PrunerStarted = true;
        }
        state.State.Entries[clientId] = entry;
        await state.WriteOrReloadAsync(this);
    }

    async Task IOAuthApplicationDirectoryGrain.RemoveAsync(string clientId)
    {
        if (!state.State.Entries.Remove(clientId)) return;
        await state.WriteOrReloadAsync(this);
    }

    Task<List<string>> IOAuthApplicationDirectoryGrain.ListAsync() =>
        Task.FromResult(state.State.Entries.Keys.Order(StringComparer.Ordinal).ToList());

    Task<List<string>> IOAuthApplicationDirectoryGrain.ListUnusedAsync(DateTimeOffset createdBefore) =>
        Task.FromResult(state.State.Entries
            .Where(e => !e.Value.Used && e.Value.CreatedAt < createdBefore && OAuthRegistrationKinds.IsSelfRegistered(e.Value.RegistrationKind))
            .Select(e => e.Key)
            .ToList());
}
