using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>
/// Which prune buckets hold ids. Apart from the pruner so that a bucket registering during a pass (a survivor
/// moved to a later bucket) never waits on the pruner that is waiting on it.
/// </summary>
[GrainType("oauth-prune-schedule")]
public sealed class OAuthPruneScheduleGrain(
    [PersistentState("oauth-prune-schedule")] IPersistentState<OAuthPruneScheduleState> state) : Grain, IOAuthPruneScheduleGrain
{
    async Task IOAuthPruneScheduleGrain.RegisterAsync(string bucket)
    {
        if (!state.State.Buckets.TryAdd(bucket, OAuthKeys.BucketDue(bucket))) return;
        await state.WriteOrReloadAsync(this);
    }

    async Task IOAuthPruneScheduleGrain.UnregisterAsync(string bucket)
    {
        if (!state.State.Buckets.Remove(bucket)) return;
        await state.WriteOrReloadAsync(this);
    }

    Task<List<string>> IOAuthPruneScheduleGrain.DueAsync(DateTimeOffset threshold) =>
        Task.FromResult(state.State.Buckets.Where(b => b.Value <= threshold).OrderBy(b => b.Value).Select(b => b.Key).ToList());
}
