using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>
/// One shard of the list of applications (<see cref="OAuthKeys.DirectoryShard"/>), so no single grain rewrites every
/// client on every registration. Ensures the pruner on the first registration, so a deployment prunes as soon as it
/// has anything to prune. The old single directory (key "0") is the same grain type: its entries move to their shards.
/// </summary>
[GrainType("oauth-app-directory")]
public sealed class OAuthApplicationDirectoryGrain(
    [PersistentState("oauth-app-directory")] IPersistentState<OAuthApplicationDirectoryState> state) : Grain, IOAuthApplicationDirectoryGrain
{
    private string Key => this.GetPrimaryKeyString();

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

    Task<bool> IOAuthApplicationDirectoryGrain.HasRoomForUnusedAsync(int maxUnused) =>
        Task.FromResult(state.State.Entries.Values.Count(e => !e.Used && OAuthRegistrationKinds.IsSelfRegistered(e.RegistrationKind)) < maxUnused);

    async Task IOAuthApplicationDirectoryGrain.ImportAsync(Dictionary<string, OAuthDirectoryEntry> entries)
    {
        var added = 0;
        foreach (var (clientId, entry) in entries)
            if (state.State.Entries.TryAdd(clientId, entry)) added++;
        if (added > 0) await state.WriteOrReloadAsync(this);
    }

    async Task IOAuthApplicationDirectoryGrain.EnsureMigratedAsync()
    {
        var foreign = state.State.Entries.Where(e => OAuthKeys.DirectoryShard(e.Key) != Key).ToList();
        if (foreign.Count == 0) return;
        // Copy first, forget after: a crash in between leaves duplicates that the next call imports again, harmlessly.
        foreach (var shard in foreign.GroupBy(e => OAuthKeys.DirectoryShard(e.Key)))
            await GrainFactory.GetGrain<IOAuthApplicationDirectoryGrain>(shard.Key).ImportAsync(shard.ToDictionary(e => e.Key, e => e.Value));
        foreach (var (clientId, _) in foreign) state.State.Entries.Remove(clientId);
        await state.WriteOrReloadAsync(this);
    }
}
