using Dovecote.Grains.Interfaces.OAuth;

namespace Dovecote.Grains.OAuth;

/// <summary>
/// Prunes OAuth entries without Quartz: an hourly reminder runs a pass with the threshold OpenIddict.Quartz uses.
/// A pass opens only the buckets that fell due, and each entity re-checks the EF rule itself before it is deleted.
/// Holds no state: the reminder is stored, and the schedule and buckets say what is left to do.
/// </summary>
[GrainType("oauth-pruner")]
public sealed class OAuthPrunerGrain(TimeProvider time, ILogger<OAuthPrunerGrain> logger) : Grain, IOAuthPrunerGrain, IRemindable
{
    public const string ReminderName = "prune";
    public static readonly TimeSpan Period = TimeSpan.FromHours(1);
    /// <summary>OpenIddict.Quartz prunes with now − 14 days.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(14);
    /// <summary>A self-registered client that has not obtained a token within this long is deleted.</summary>
    public static readonly TimeSpan UnusedClientLifetime = TimeSpan.FromHours(24);
    private const int Parallelism = 16;

    async Task IOAuthPrunerGrain.EnsureStartedAsync()
    {
        if (await this.GetReminder(ReminderName) is not null) return;
        await this.RegisterOrUpdateReminder(ReminderName, Period, Period);
    }

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return;
        var now = time.GetUtcNow();
        await PruneAsync(now - Retention, now);
    }

    Task<OAuthPruneResult> IOAuthPrunerGrain.PruneAsync(DateTimeOffset threshold, DateTimeOffset now) => PruneAsync(threshold, now);

    private async Task<OAuthPruneResult> PruneAsync(DateTimeOffset threshold, DateTimeOffset now)
    {
        // Tokens first, so an ad-hoc authorization whose last token goes in this pass is pruned in it too.
        var due = await GrainFactory.GetGrain<IOAuthPruneScheduleGrain>(OAuthKeys.Singleton).DueAsync(threshold);
        long tokens = 0, authorizations = 0;
        foreach (var bucket in due.OrderBy(b => OAuthKeys.IsTokenBucket(b) ? 0 : 1))
        {
            var isTokens = OAuthKeys.IsTokenBucket(bucket);
            var deleted = await PruneBucketAsync(bucket, id => isTokens
                ? GrainFactory.GetGrain<IOAuthTokenGrain>(id).PruneAsync(threshold, now)
                : GrainFactory.GetGrain<IOAuthAuthorizationGrain>(id).PruneAsync(threshold));
            if (isTokens) tokens += deleted;
            else authorizations += deleted;
        }

        var createdBefore = now - UnusedClientLifetime;
        long applications = 0;
        foreach (var clientId in await GrainFactory.ListAllUnusedApplicationsAsync(createdBefore))
        {
            var application = GrainFactory.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(clientId));
            if (await application.DeleteIfUnusedAsync(createdBefore)) applications++;
            // A metadata-document client stored under its raw URL before keys were encoded, and not seen since: the old
            // entry is all that is left of it, and it would hold a place among the unused clients for good.
            else if (await application.GetAsync() is null) await GrainFactory.Shard(clientId).RemoveAsync(clientId);
        }

        if (tokens + authorizations + applications > 0)
            logger.LogInformation("OAuth prune up to {Threshold}: {Tokens} tokens, {Authorizations} authorizations, {Applications} unused clients deleted",
                threshold, tokens, authorizations, applications);
        return new OAuthPruneResult(tokens, authorizations, applications);
    }

    /// <summary>Re-checks every id of the bucket (survivors move themselves to a later bucket), then empties it.</summary>
    private async Task<long> PruneBucketAsync(string bucketKey, Func<string, Task<OAuthPruneOutcome>> prune)
    {
        var bucket = GrainFactory.GetGrain<IOAuthPruneBucketGrain>(bucketKey);
        var ids = await bucket.ListAsync();
        long deleted = 0;
        foreach (var chunk in ids.Chunk(Parallelism))
            deleted += (await Task.WhenAll(chunk.Select(prune))).Count(o => o == OAuthPruneOutcome.Deleted);
        await bucket.RemoveAsync(ids);
        return deleted;
    }
}
