namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// Every OAuth scope in one grain, keyed <see cref="OAuthKeys.Singleton"/>: the real scopes are registered in code,
/// so this holds few if any. Writes answer null or false instead of throwing when the concurrency token is stale.
/// </summary>
[Alias("dovecote.IOAuthScopeCatalogGrain")]
public interface IOAuthScopeCatalogGrain : IGrainWithStringKey
{
    [Alias("List"), ReadOnly, AlwaysInterleave]
    Task<List<OAuthScope>> ListAsync();

    /// <summary>Its concurrency token, or null when the id or the name is taken.</summary>
    [Alias("Create")]
    Task<string?> CreateAsync(OAuthScope scope);

    /// <summary>The new concurrency token, or null when missing, stale, or the new name is taken.</summary>
    [Alias("Update")]
    Task<string?> UpdateAsync(OAuthScope scope, string expectedConcurrencyToken);

    [Alias("Delete")]
    Task<bool> DeleteAsync(string id, string expectedConcurrencyToken);
}
