namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// One shard of the application list, keyed <see cref="OAuthKeys.DirectoryShard"/>: every client_id of the shard with what
/// pruning and the registration cap need to know. Written only by the application grains; the first registration starts the
/// pruner. The key <see cref="OAuthKeys.Singleton"/> is the old single directory, whose entries move to their shards.
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

    /// <summary>Whether this shard holds fewer than <paramref name="maxUnused"/> self-registered, never used clients.</summary>
    [Alias("HasRoomForUnused"), ReadOnly, AlwaysInterleave]
    Task<bool> HasRoomForUnusedAsync(int maxUnused);

    /// <summary>Adds entries this shard does not have yet (its own are newer): the receiving side of a migration.</summary>
    [Alias("Import")]
    Task ImportAsync(Dictionary<string, OAuthDirectoryEntry> entries);

    /// <summary>Moves every entry that belongs to another shard there, then forgets it; idempotent, so a crash midway only repeats it.</summary>
    [Alias("EnsureMigrated")]
    Task EnsureMigratedAsync();
}

[GenerateSerializer, Alias("dovecote.OAuthDirectoryEntry")]
public sealed class OAuthDirectoryEntry
{
    [Id(0)] public DateTimeOffset CreatedAt { get; set; }
    [Id(1)] public string RegistrationKind { get; set; } = OAuthRegistrationKinds.Static;
    [Id(2)] public bool Used { get; set; }
}

/// <summary>The sharded directory as one list: the old single grain is asked first, so its entries have moved before a shard answers.</summary>
public static class OAuthApplicationDirectory
{
    public static IOAuthApplicationDirectoryGrain Shard(this IGrainFactory grains, string clientId) =>
        grains.GetGrain<IOAuthApplicationDirectoryGrain>(OAuthKeys.DirectoryShard(clientId));

    public static Task EnsureLegacyMigratedAsync(this IGrainFactory grains) =>
        grains.GetGrain<IOAuthApplicationDirectoryGrain>(OAuthKeys.Singleton).EnsureMigratedAsync();

    /// <summary>Every client_id of every shard, ordinally sorted.</summary>
    public static async Task<List<string>> ListAllApplicationsAsync(this IGrainFactory grains)
    {
        await grains.EnsureLegacyMigratedAsync();
        var shards = await Task.WhenAll(OAuthKeys.DirectoryShards.Select(k => grains.GetGrain<IOAuthApplicationDirectoryGrain>(k).ListAsync()));
        return shards.SelectMany(s => s).Order(StringComparer.Ordinal).ToList();
    }

    public static async Task<List<string>> ListAllUnusedApplicationsAsync(this IGrainFactory grains, DateTimeOffset createdBefore)
    {
        await grains.EnsureLegacyMigratedAsync();
        var shards = await Task.WhenAll(
            OAuthKeys.DirectoryShards.Select(k => grains.GetGrain<IOAuthApplicationDirectoryGrain>(k).ListUnusedAsync(createdBefore)));
        return shards.SelectMany(s => s).ToList();
    }
}
