using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.Tenants;

/// <summary>
/// One shard of the tenant list, kept in ordinal order so a page is a binary search and a slice. Bounded: the whole
/// state is rewritten for every new tenant, so a shard stays about 200 KB (3,000 ids of at most 63 characters).
/// </summary>
[GrainType("tenant-directory")]
public sealed class TenantDirectoryGrain(
    [PersistentState("tenant-directory")] IPersistentState<TenantDirectoryState> state) : Grain, ITenantDirectoryGrain
{
    /// <summary>With 16 shards, room for about 48,000 tenants.</summary>
    private const int MaxTenants = 3_000;

    private List<string> Tenants => state.State.Tenants;

    async Task ITenantDirectoryGrain.AddAsync(string tenant)
    {
        if (!GrainKeys.IsValidTenant(tenant))
            throw new ArgumentException("a tenant id is 1 to 63 lowercase letters, digits and '-', starting with a letter or digit");
        var at = Tenants.BinarySearch(tenant, StringComparer.Ordinal);
        if (at >= 0) return;
        if (Tenants.Count >= MaxTenants)
            throw new ArgumentException($"tenant directory shard {this.GetPrimaryKeyString()} is full ({MaxTenants} tenants)");
        Tenants.Insert(~at, tenant);
        await state.WriteOrReloadAsync(this);
    }

    Task<IReadOnlyList<string>> ITenantDirectoryGrain.ListAsync(string? after, int limit)
    {
        var start = IndexAfter(after);
        return Task.FromResult<IReadOnlyList<string>>(Tenants.GetRange(start, Math.Clamp(limit, 0, Tenants.Count - start)));
    }

    /// <summary>Where the ids ordinally greater than <paramref name="after"/> begin; <paramref name="after"/> need not be listed.</summary>
    private int IndexAfter(string? after)
    {
        if (after is null) return 0;
        var at = Tenants.BinarySearch(after, StringComparer.Ordinal);
        return at >= 0 ? at + 1 : ~at;
    }
}
