namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>One authorization, keyed by its id. Writes answer null or false instead of throwing when the concurrency token is stale.</summary>
[Alias("dovecote.IOAuthAuthorizationGrain")]
public interface IOAuthAuthorizationGrain : IGrainWithStringKey
{
    [Alias("Get"), ReadOnly, AlwaysInterleave]
    Task<OAuthAuthorization?> GetAsync();

    /// <summary>Indexes and stores it; its concurrency token, or null when this id already exists.</summary>
    [Alias("Create")]
    Task<string?> CreateAsync(OAuthAuthorization authorization);

    /// <summary>The new concurrency token, or null when missing or stale.</summary>
    [Alias("Update")]
    Task<string?> UpdateAsync(OAuthAuthorization authorization, string expectedConcurrencyToken);

    /// <summary>Deletes it and its tokens; false when missing or stale. A null token deletes unconditionally.</summary>
    [Alias("Delete")]
    Task<bool> DeleteAsync(string? expectedConcurrencyToken);

    /// <summary>Sets the status to revoked and bumps the concurrency token; false when it does not exist.</summary>
    [Alias("Revoke")]
    Task<bool> RevokeAsync();

    /// <summary>Applies the EF store's prune rule as of <paramref name="threshold"/>: deleted, kept, or already gone.</summary>
    [Alias("Prune")]
    Task<OAuthPruneOutcome> PruneAsync(DateTimeOffset threshold);
}

[GenerateSerializer, Alias("dovecote.OAuthPruneOutcome")]
public enum OAuthPruneOutcome
{
    Missing,
    Deleted,
    Kept,
}
