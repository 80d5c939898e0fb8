using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.OAuth;

namespace Dovecote.Tests.OAuth.Stores;

/// <summary>The OAuth indexes are spread over fixed shards, read together with the unsharded grain from before, and bounded per shard.</summary>
[Collection(GrainClusterCollection.Name)]
public sealed class OAuthIndexShardingTests(GrainClusterFixture fx)
{
    private static string NewId() => Guid.NewGuid().ToString("N");

    [Fact]
    public void Shards_come_from_a_hash_and_counts_that_never_change()
    {
        // Pinned: an id is only ever looked for in the shard its hash names.
        Assert.Equal(
            new Dictionary<string, int> { ["app-authz"] = 256, ["app-tokens"] = 256, ["subject-authz"] = 64, ["authz-tokens"] = 16 },
            OAuthIndexes.ShardCounts);
        Assert.Equal("subject-authz-62/default", OAuthIndexes.ShardKey(OAuthKeys.SubjectAuthorizations("default"), "0123456789abcdef0123456789abcdef"));
        Assert.Equal("authz-tokens-15/abc", OAuthIndexes.ShardKey(OAuthKeys.AuthorizationTokens("abc"), "token-1"));
        Assert.Equal(257, OAuthIndexes.AllKeys(OAuthKeys.ApplicationAuthorizations("dvc-x")).Distinct().Count());
        Assert.Equal("app-authz/dvc-x", OAuthIndexes.AllKeys(OAuthKeys.ApplicationAuthorizations("dvc-x")).First());
    }

    [Fact]
    public void A_shard_key_never_sanitizes_like_an_unsharded_key()
    {
        // The Azure Table provider turns '/' into '_'; the shard's "-nn" sits where an unsharded key has its '/'.
        static string Sanitize(string key) => key.Replace('/', '_');
        var owner = "dvc-" + new string('a', 48);
        var shards = OAuthIndexes.AllKeys(OAuthKeys.ApplicationTokens(owner)).Skip(1).Select(Sanitize).ToHashSet();
        Assert.DoesNotContain(Sanitize(OAuthKeys.ApplicationTokens(owner)), shards);
        Assert.DoesNotContain(Sanitize(OAuthKeys.ApplicationTokens("07_" + owner)), shards);
        Assert.Equal(256, shards.Count);
    }

    [Fact]
    public async Task Entries_from_before_sharding_are_still_listed_and_removed()
    {
        var index = OAuthKeys.ApplicationAuthorizations("dvc-" + NewId() + NewId()[..16]);
        var (old, added) = (NewId(), NewId());
        await fx.Client.GetGrain<IOAuthIndexGrain>(index).AddAsync(old); // as the unsharded index wrote it
        await fx.Client.AddToIndexAsync(index, added);

        Assert.Equal([added], await fx.Client.GetGrain<IOAuthIndexGrain>(OAuthIndexes.ShardKey(index, added)).ListAsync());
        Assert.Equal(new[] { added, old }.Order(), (await fx.Client.ListIndexAsync(index)).Order());

        await fx.Client.RemoveFromIndexAsync(index, old);
        await fx.Client.RemoveFromIndexAsync(index, added);
        Assert.Empty(await fx.Client.ListIndexAsync(index));
    }

    [Fact]
    public async Task A_full_shard_refuses_another_id_instead_of_outgrowing_its_row()
    {
        var shard = fx.Client.GetGrain<IOAuthIndexGrain>(OAuthIndexes.ShardKey(OAuthKeys.AuthorizationTokens(NewId()), "x"));
        for (var i = 0; i < OAuthIndexGrain.MaxIds; i++) await shard.AddAsync(i.ToString("D32"));

        await shard.AddAsync(0.ToString("D32")); // already there: no growth, no refusal
        var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() => shard.AddAsync(NewId()));
        Assert.Contains("4096", refusal.Message);
        Assert.Equal(OAuthIndexGrain.MaxIds, (await shard.ListAsync()).Count);
    }
}
