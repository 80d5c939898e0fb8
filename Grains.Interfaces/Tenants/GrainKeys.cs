using System.Buffers;
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

    /// <summary>
    /// The longest outside string a key keeps as it is. With the key's prefix, grain type and service id it stays far
    /// under the Azure Table provider's 1,024-character partition key limit.
    /// </summary>
    public const int MaxVerbatimLength = 128;

    /// <summary>Starts an encoded key part. No verbatim part can contain it, so a raw string never equals an encoded one.</summary>
    public const char EncodedMarker = '~';

    /// <summary>
    /// A string from outside (client_id, address, reference id...) as one grain key part that survives the storage
    /// providers' key mapping: the Azure Table provider turns '/', '\', '#' and '?' into '_' and refuses long keys, so
    /// two raw strings could share a row. A short string in [A-Za-z0-9._-] stays as it is (existing keys keep their
    /// rows); anything else becomes '~' and the lowercase hex SHA-256 of its UTF-8 (65 characters). The original
    /// string is never recoverable from the key: keep it in the grain's state.
    /// </summary>
    public static string Part(string value) =>
        IsVerbatim(value) ? value : EncodedMarker + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>Whether <see cref="Part"/> keeps <paramref name="value"/> as it is.</summary>
    public static bool IsVerbatim(string? value) =>
        value is { Length: > 0 and <= MaxVerbatimLength } && !value.AsSpan().ContainsAnyExcept(VerbatimCharacters);

    private static readonly SearchValues<char> VerbatimCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

    /// <summary>
    /// "{bucket}/{key}" of a rate-limit window. Buckets are ours ([a-z-]); the key (an address, an IPv6 "/64" prefix, a
    /// tenant or client id from a request) goes through <see cref="Part"/>.
    /// </summary>
    public static string RateLimit(string bucket, string key) => $"{bucket}/{Part(key)}";

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
