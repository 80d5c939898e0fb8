namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// One shard of a set of entity ids under one owner (keys from <see cref="OAuthIndexes"/>): a subject's or application's
/// authorizations, an authorization's tokens. Only the listed entity grains add or remove themselves; readers skip ids that are gone.
/// </summary>
[Alias("dovecote.IOAuthIndexGrain")]
public interface IOAuthIndexGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task AddAsync(string id);

    [Alias("Remove")]
    Task RemoveAsync(string id);

    [Alias("List"), ReadOnly, AlwaysInterleave]
    Task<List<string>> ListAsync();
}
