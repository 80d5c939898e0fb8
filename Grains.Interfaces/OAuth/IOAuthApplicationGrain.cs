namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// One OAuth application, keyed by its client_id (which is also its OpenIddict Id). Writes take the caller's
/// concurrency token and answer null instead of throwing when it is stale.
/// </summary>
[Alias("dovecote.IOAuthApplicationGrain")]
public interface IOAuthApplicationGrain : IGrainWithStringKey
{
    [Alias("Get"), ReadOnly, AlwaysInterleave]
    Task<OAuthApplication?> GetAsync();

    /// <summary>Stores a new application; its new concurrency token, or null when this client_id already exists.</summary>
    [Alias("Create")]
    Task<string?> CreateAsync(OAuthApplication application);

    /// <summary>Replaces the OpenIddict fields; the new concurrency token, or null when missing or stale. Creation time, kind and use are kept.</summary>
    [Alias("Update")]
    Task<string?> UpdateAsync(OAuthApplication application, string expectedConcurrencyToken);

    /// <summary>Deletes it with its authorizations and tokens; false when missing or stale. A null token deletes unconditionally.</summary>
    [Alias("Delete")]
    Task<bool> DeleteAsync(string? expectedConcurrencyToken);

    /// <summary>Records the first token issued to it; later calls change nothing.</summary>
    [Alias("MarkUsed")]
    Task MarkUsedAsync(DateTimeOffset at);

    /// <summary>Deletes it (with cascade) when it is self-registered, never used and created before <paramref name="createdBefore"/>.</summary>
    [Alias("DeleteIfUnused")]
    Task<bool> DeleteIfUnusedAsync(DateTimeOffset createdBefore);
}
