namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// Every application's client_id with what pruning needs to know, keyed <see cref="OAuthKeys.Singleton"/>.
/// Written only by the application grains. The first registration starts the pruner.
/// </summary>
[Alias("dovecote.IOAuthApplicationDirectoryGrain")]
public interface IOAuthApplicationDirectoryGrain : IGrainWithStringKey
{
    [Alias("Set")]
    Task SetAsync(string clientId, OAuthDirectoryEntry entry);

    [Alias("Remove")]
    Task RemoveAsync(string clientId);

    /// <summary>All client_ids, ordinally sorted.</summary>
    [Alias("List"), ReadOnly, AlwaysInterleave]
    Task<List<string>> ListAsync();

    /// <summary>Self-registered, never used clients created before <paramref name="createdBefore"/>.</summary>
    [Alias("ListUnused"), ReadOnly, AlwaysInterleave]
    Task<List<string>> ListUnusedAsync(DateTimeOffset createdBefore);
}

[GenerateSerializer, Alias("dovecote.OAuthDirectoryEntry")]
public sealed class OAuthDirectoryEntry
{
    [Id(0)] public DateTimeOffset CreatedAt { get; set; }
    [Id(1)] public string RegistrationKind { get; set; } = OAuthRegistrationKinds.Static;
    [Id(2)] public bool Used { get; set; }
}
