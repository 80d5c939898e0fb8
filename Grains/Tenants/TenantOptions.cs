using System.ComponentModel.DataAnnotations;

namespace Dovecote.Grains.Tenants;

/// <summary>
/// The default limits of every tenant (section "Tenants", e.g. Tenants__SendsPerMinute); the operator may set others per tenant
/// with PUT /admin/tenants/{tenant}. The upper bounds are the hard caps that keep a tenant grain's state within its budget.
/// </summary>
public sealed class TenantOptions
{
    public const string Section = "Tenants";
    public const int HardMaxSendsPerMinute = 100_000;
    public const int HardMaxChannels = 1_000;
    public const int HardMaxApiKeys = 100;
    public const int HardMaxOAuthClients = 1_000;

    /// <summary>Notifications a tenant may send per minute across the cluster; each channel of a fan-out counts once.</summary>
    [Range(1, HardMaxSendsPerMinute, ErrorMessage = "{0} must be 1 to 100000")]
    public int SendsPerMinute { get; set; } = 600;

    [Range(1, HardMaxChannels, ErrorMessage = "{0} must be 1 to 1000")]
    public int MaxChannels { get; set; } = 100;

    [Range(1, HardMaxApiKeys, ErrorMessage = "{0} must be 1 to 100")]
    public int MaxApiKeys { get; set; } = 20;

    /// <summary>Live OAuth grants (one per connected client) a tenant may hold.</summary>
    [Range(1, HardMaxOAuthClients, ErrorMessage = "{0} must be 1 to 1000")]
    public int MaxOAuthClients { get; set; } = 50;

    /// <summary>The limits in force: <paramref name="overrides"/> where set, these defaults elsewhere.</summary>
    public TenantLimits Effective(TenantLimitOverrides? overrides) => new(
        overrides?.SendsPerMinute ?? SendsPerMinute,
        overrides?.Channels ?? MaxChannels,
        overrides?.ApiKeys ?? MaxApiKeys,
        overrides?.OAuthClients ?? MaxOAuthClients);

    /// <summary>The first operator value out of range, or null; names the JSON field the operator sent.</summary>
    public static string? Problem(TenantLimitOverrides limits) =>
        limits.SendsPerMinute is < 1 or > HardMaxSendsPerMinute ? $"limits.sendsPerMinute must be 1 to {HardMaxSendsPerMinute}"
        : limits.Channels is < 1 or > HardMaxChannels ? $"limits.channels must be 1 to {HardMaxChannels}"
        : limits.ApiKeys is < 1 or > HardMaxApiKeys ? $"limits.apiKeys must be 1 to {HardMaxApiKeys}"
        : limits.OAuthClients is < 1 or > HardMaxOAuthClients ? $"limits.oauthClients must be 1 to {HardMaxOAuthClients}"
        : null;
}
