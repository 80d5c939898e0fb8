using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Tests.Tenants;

namespace Dovecote.Tests.OAuth.Stores;

/// <summary>The application directory is 64 shards chosen by a hash that must never change, and the old single grain's entries still count.</summary>
[Collection(GrainClusterCollection.Name)]
public sealed class ApplicationDirectoryTests(GrainClusterFixture fx) : OpenIddictStoreTestBase(fx)
{
    private static OAuthDirectoryEntry Unused(string kind = OAuthRegistrationKinds.Dcr) =>
        new() { CreatedAt = DateTimeOffset.UtcNow, RegistrationKind = kind };

    [Theory]
    [InlineData("dvc-000000000000000000000000000000000000000000000000", "apps-08")]
    [InlineData("https://claude.ai/oauth/mcp-client-metadata", "apps-20")]
    [InlineData("https://a.example/x/y", "apps-08")]
    [InlineData("https://a.example/x_y", "apps-34")]
    public void The_shard_of_a_client_id_is_pinned(string clientId, string shard)
    {
        // Stored entries are found by this hash: a change would hide every client registered before it.
        Assert.Equal(shard, OAuthKeys.DirectoryShard(clientId));
        Assert.Equal(64, OAuthKeys.DirectoryShards.Distinct().Count());
        Assert.DoesNotContain(OAuthKeys.Singleton, OAuthKeys.DirectoryShards);
    }

    [Fact]
    public async Task Entries_of_the_old_single_directory_are_found_and_move_to_their_shards()
    {
        // What the old code wrote: every entry in the one directory grain, keyed "0", read back from storage after an upgrade.
        var ids = Enumerable.Range(0, 8).Select(_ => Dovecote.Api.OAuth.Registration.ClientIds.New()).ToList();
        var legacy = Fx.Client.GetGrain<IOAuthApplicationDirectoryGrain>(OAuthKeys.Singleton);
        foreach (var id in ids) await legacy.SetAsync(id, Unused());
        await Fx.Cluster.DeactivateAsync(legacy);

        var all = await Fx.Client.ListAllApplicationsAsync();

        Assert.All(ids, id => Assert.Contains(id, all));
        foreach (var id in ids) Assert.Contains(id, await Fx.Client.Shard(id).ListAsync());
        Assert.Empty((await legacy.ListAsync()).Intersect(ids));
        Assert.Superset(ids.ToHashSet(), (await Fx.Client.ListAllUnusedApplicationsAsync(DateTimeOffset.MaxValue)).Intersect(ids).ToHashSet());
    }

    [Fact]
    public async Task A_shard_has_room_only_below_the_cap_of_unused_self_registered_clients()
    {
        var shard = Fx.Client.GetGrain<IOAuthApplicationDirectoryGrain>($"test-{Guid.NewGuid():N}");
        await shard.SetAsync("dvc-a", Unused());
        await shard.SetAsync("https://b.example/c", Unused(OAuthRegistrationKinds.Cimd));
        var used = new OAuthDirectoryEntry { CreatedAt = DateTimeOffset.UtcNow, RegistrationKind = OAuthRegistrationKinds.Dcr, Used = true };
        await shard.SetAsync("dvc-used", used);
        await shard.SetAsync("dvc-operator", Unused(OAuthRegistrationKinds.Bootstrap));

        Assert.False(await shard.HasRoomForUnusedAsync(2)); // the used and the operator-made clients do not count
        Assert.True(await shard.HasRoomForUnusedAsync(3));
        await shard.RemoveAsync("dvc-a");
        Assert.True(await shard.HasRoomForUnusedAsync(2));
    }
}
