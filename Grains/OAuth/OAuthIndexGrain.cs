using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>A set of entity ids under one owner. An emptied set is deleted from storage rather than kept as an empty row.</summary>
[GrainType("oauth-index")]
public sealed class OAuthIndexGrain(
    [PersistentState("oauth-index")] IPersistentState<OAuthIndexState> state) : Grain, IOAuthIndexGrain
{
    async Task IOAuthIndexGrain.AddAsync(string id)
    {
        if (!state.State.Ids.Add(id)) return;
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
