namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// The ids of the tokens or authorizations to look at when the prune threshold passes this bucket's hour or day
/// (keys from <see cref="OAuthKeys.TokenBucket"/> and <see cref="OAuthKeys.AuthorizationBucket"/>), so a pass
/// loads only entities that may be prunable. A bucket enters the prune schedule with its first id and leaves it when emptied.
/// </summary>
[Alias("dovecote.IOAuthPruneBucketGrain")]
public interface IOAuthPruneBucketGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task AddAsync(List<string> ids);

    [Alias("List"), ReadOnly, AlwaysInterleave]
    Task<List<string>> ListAsync();

    /// <summary>Removes the ids a pass has dealt with; ids added meanwhile stay for the next pass.</summary>
    [Alias("Remove")]
    Task RemoveAsync(List<string> ids);
}
