using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>
/// Ids to re-check when the prune threshold passes this bucket's hour or day. A non-empty bucket is always in the
/// schedule: it registers before storing its first id and unregisters after its last id is removed.
/// </summary>
[GrainType("oauth-prune-bucket")]
public sealed class OAuthPruneBucketGrain(
    [PersistentState("oauth-prune-bucket")] IPersistentState<OAuthPruneBucketState> state) : Grain, IOAuthPruneBucketGrain
{
    private IOAuthPruneScheduleGrain Schedule => GrainFactory.GetGrain<IOAuthPruneScheduleGrain>(OAuthKeys.Singleton);

    async Task IOAuthPruneBucketGrain.AddAsync(List<string> ids)
    {
        var held = state.State.Ids;
        if (ids.All(held.Contains)) return;
        if (held.Count == 0) await Schedule.RegisterAsync(this.GetPrimaryKeyString());
        held.UnionWith(ids);
        await state.WriteOrReloadAsync(this);
    }

    Task<List<string>> IOAuthPruneBucketGrain.ListAsync() => Task.FromResult(state.State.Ids.ToList());

    async Task IOAuthPruneBucketGrain.RemoveAsync(List<string> ids)
    {
        state.State.Ids.ExceptWith(ids);
        if (state.State.Ids.Count > 0)
        {
            await state.WriteOrReloadAsync(this);
            return;
        }
        await state.ClearStateAsync();
        await Schedule.UnregisterAsync(this.GetPrimaryKeyString());
    }
}
