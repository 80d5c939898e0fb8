using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>
/// One shard of the list of tenant ids, keyed by <see cref="GrainKeys.TenantDirectoryShard"/>: written by the tenant
/// grains, read by the operator. Holds ids only, no tenant's data, so it is not tenant-scoped.
/// </summary>
[Alias("dovecote.ITenantDirectoryGrain")]
public interface ITenantDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Lists the tenant; nothing happens when it is listed already. A new tenant is refused when the shard is full.</summary>
    [Alias("Add")]
    Task AddAsync(string tenant);

    /// <summary>Up to <paramref name="limit"/> tenant ids ordinally after <paramref name="after"/> (from the first when null), in ordinal order.</summary>
    [Alias("List"), ReadOnly]
    Task<IReadOnlyList<string>> ListAsync(string? after, int limit);
}
