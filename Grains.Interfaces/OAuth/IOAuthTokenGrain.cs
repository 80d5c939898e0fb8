namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>One token entry, keyed by its id. Writes answer null or false instead of throwing when the concurrency token is stale.</summary>
[Alias("dovecote.IOAuthTokenGrain")]
public interface IOAuthTokenGrain : IGrainWithStringKey
{
    [Alias("Get"), ReadOnly, AlwaysInterleave]
    Task<OAuthToken?> GetAsync();

    /// <summary>Indexes and stores it; its concurrency token, or null when the id or reference id is taken.</summary>
    [Alias("Create")]
    Task<string?> CreateAsync(OAuthToken token);

    /// <summary>The new concurrency token, or null when missing, stale, or the new reference id is taken.</summary>
    [Alias("Update")]
    Task<string?> UpdateAsync(OAuthToken token, string expectedConcurrencyToken);

    /// <summary>False when missing or stale. A null token deletes unconditionally.</summary>
    [Alias("Delete")]
    Task<bool> DeleteAsync(string? expectedConcurrencyToken);

    /// <summary>Sets the status to revoked and bumps the concurrency token; false when it does not exist.</summary>
    [Alias("Revoke")]
    Task<bool> RevokeAsync();

    /// <summary>Applies the EF store's prune rule as of <paramref name="threshold"/> and <paramref name="now"/>.</summary>
    [Alias("Prune")]
    Task<OAuthPruneOutcome> PruneAsync(DateTimeOffset threshold, DateTimeOffset now);
}
