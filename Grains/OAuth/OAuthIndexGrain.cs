using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>
/// One shard of a set of entity ids under one owner (<see cref="OAuthIndexes"/>). An emptied set is deleted from storage
/// rather than kept as an empty row; a full one refuses more, so its row stays far inside one Azure Table entity.
/// </summary>
[GrainType("oauth-index")]
public sealed class OAuthIndexGrain(
    [PersistentState("oauth-index")] IPersistentState<OAuthIndexState> state) : Grain, IOAuthIndexGrain
{
    /// <summary>4,096 ids of at most 128 characters are about 540 KB of JSON; ours are 32 hex digits, about 145 KB.</summary>
    public const int MaxIds = 4_096;

    async Task IOAuthIndexGrain.AddAsync(string id)
    {
        if (state.State.Ids.Contains(id)) return;
        if (state.State.Ids.Count >= MaxIds)
            throw new InvalidOperationException($"OAuth index shard '{this.GetPrimaryKeyString()}' holds {MaxIds} ids; prune or revoke before adding more");
        state.State.Ids.Add(id);
        await state.WriteOrReloadAsync(this);
    }

    async Task IOAuthIndexGrain.RemoveAsync(string id)
    {
        if (!state.State.Ids.Remove(id)) return;
        if (state.State.Ids.Count == 0) await state.ClearStateAsync();
        else await state.WriteOrReloadAsync(this);
    }

    Task<List<string>> IOAuthIndexGrain.ListAsync() => Task.FromResult(state.State.Ids.ToList());
}
