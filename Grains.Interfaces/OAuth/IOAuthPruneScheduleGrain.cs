namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>The prune buckets that hold ids, with when each falls due; keyed <see cref="OAuthKeys.Singleton"/>.</summary>
[Alias("dovecote.IOAuthPruneScheduleGrain")]
public interface IOAuthPruneScheduleGrain : IGrainWithStringKey
{
    [Alias("Register")]
    Task RegisterAsync(string bucket);

    [Alias("Unregister")]
    Task UnregisterAsync(string bucket);

    /// <summary>Buckets due at or before <paramref name="threshold"/>, oldest first.</summary>
    [Alias("Due"), ReadOnly, AlwaysInterleave]
    Task<List<string>> DueAsync(DateTimeOffset threshold);
}
