using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// The OAuth indexes (<see cref="OAuthKeys.SubjectAuthorizations"/> and its siblings) as sets spread over a fixed number of
/// <see cref="IOAuthIndexGrain"/> shards, so one application with a million tokens is many bounded rows, not one. An id's
/// shard comes from the SHA-256 of the id. The unsharded grain under the index key itself still holds entries written
/// before sharding: it is read and removed from, never added to.
/// </summary>
public static class OAuthIndexes
{
    /// <summary>
    /// Shards per index family. Part of the storage layout: an id is found only in the shard its hash names, so these
    /// never change. An application's index is shared by every tenant; a tenant's and an authorization's are smaller.
    /// </summary>
    public static IReadOnlyDictionary<string, int> ShardCounts { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["app-authz"] = 256,
        ["app-tokens"] = 256,
        ["subject-authz"] = 64,
        ["authz-tokens"] = 16,
    };

    /// <summary>"{family}-{nn}/{owner}" for "{family}/{owner}". The '-' keeps it from ever sanitizing like an unsharded key.</summary>
    public static string ShardKey(string indexKey, string id)
    {
        var (family, owner, count) = Parse(indexKey);
        var shard = BinaryPrimitives.ReadUInt32LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(id))) % (uint)count;
        return $"{family}-{shard.ToString(count > 100 ? "D3" : "D2", CultureInfo.InvariantCulture)}/{owner}";
    }

    /// <summary>Every grain that may hold an entry of the index: the unsharded one from before, then each shard.</summary>
    public static IEnumerable<string> AllKeys(string indexKey)
    {
        var (family, owner, count) = Parse(indexKey);
        yield return indexKey;
        for (var shard = 0; shard < count; shard++)
            yield return $"{family}-{shard.ToString(count > 100 ? "D3" : "D2", CultureInfo.InvariantCulture)}/{owner}";
    }

    public static Task AddToIndexAsync(this IGrainFactory grains, string indexKey, string id) =>
        grains.GetGrain<IOAuthIndexGrain>(ShardKey(indexKey, id)).AddAsync(id);

    /// <summary>Removes from the id's shard and from the unsharded grain that may still hold it from before.</summary>
    public static Task RemoveFromIndexAsync(this IGrainFactory grains, string indexKey, string id) => Task.WhenAll(
        grains.GetGrain<IOAuthIndexGrain>(ShardKey(indexKey, id)).RemoveAsync(id),
        grains.GetGrain<IOAuthIndexGrain>(indexKey).RemoveAsync(id));

    /// <summary>Every id of the index, from all shards at once.</summary>
    public static async Task<List<string>> ListIndexAsync(this IGrainFactory grains, string indexKey)
    {
        var parts = await Task.WhenAll(AllKeys(indexKey).Select(key => grains.GetGrain<IOAuthIndexGrain>(key).ListAsync()));
        return parts.SelectMany(ids => ids).Distinct(StringComparer.Ordinal).ToList();
    }

    private static (string Family, string Owner, int Count) Parse(string indexKey)
    {
        var slash = indexKey.IndexOf('/');
        return slash > 0 && ShardCounts.TryGetValue(indexKey[..slash], out var count)
            ? (indexKey[..slash], indexKey[(slash + 1)..], count)
            : throw new ArgumentException($"'{indexKey}' is not an OAuth index key", nameof(indexKey));
    }
}
