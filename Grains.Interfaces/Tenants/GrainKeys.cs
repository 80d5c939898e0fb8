using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>The one place that knows how tenant and resource ids form grain keys.</summary>
public static partial class GrainKeys
{
    /// <summary>"{tenant}/{channelId}".</summary>
    public static string Channel(string tenant, string channelId) => $"{tenant}/{channelId}";

    public static bool IsValidTenant(string? tenant) => tenant is not null && TenantPattern().IsMatch(tenant);

    public static bool IsValidChannelId(string? channelId) => channelId is not null && ChannelIdPattern().IsMatch(channelId);

    /// <summary>The tenant of a "{tenant}" or "{tenant}/..." key, or null.</summary>
    public static string? TenantOf(string key)
    {
        var slash = key.IndexOf('/');
        return slash > 0 ? key[..slash] : slash < 0 && key.Length > 0 ? key : null;
    }

    /// <summary>"{tenant}/{yyyy-MM-dd}": one audit grain per tenant and UTC day.</summary>
    public static string AuditDay(string tenant, DateOnly day) => $"{tenant}/{day:yyyy-MM-dd}";

    /// <summary>Fixed for good: a tenant's directory shard is derived from its id, so changing this would lose tenants from the list.</summary>
    public const int TenantDirectoryShards = 16;

    /// <summary>"0" to "15": the tenant directory shard that lists <paramref name="tenant"/>, by a hash that is the same in every process.</summary>
    public static string TenantDirectoryShard(string tenant) =>
        (SHA256.HashData(Encoding.UTF8.GetBytes(tenant))[0] % TenantDirectoryShards).ToString(CultureInfo.InvariantCulture);

    /// <summary>Every tenant directory shard's key.</summary>
    public static IEnumerable<string> AllTenantDirectoryShards() =>
        Enumerable.Range(0, TenantDirectoryShards).Select(shard => shard.ToString(CultureInfo.InvariantCulture));

    /// <summary>Splits "{tenant}/{id}".</summary>
    public static (string Tenant, string Id) Split(string key)
    {
        var slash = key.IndexOf('/');
        if (slash <= 0 || slash == key.Length - 1)
            throw new ArgumentException($"'{key}' is not a '{{tenant}}/{{id}}' key", nameof(key));
        return (key[..slash], key[(slash + 1)..]);
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,62}\z")]
    private static partial Regex TenantPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex ChannelIdPattern();
}
