using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>A tenant, keyed "{tenant}": its profile, password, channel index, API keys and env profiles.</summary>
[Alias("dovecote.ITenantGrain")]
public interface ITenantGrain : IGrainWithStringKey, ITenantScopedGrain
{
    /// <summary>Creates the tenant or updates its profile; a null password keeps the current one.</summary>
    [Alias("Upsert")]
    Task<TenantInfo> UpsertAsync(string displayName, string? password);

    /// <summary>Like <see cref="UpsertAsync(string, string?)"/>, and replaces the operator's limits when <paramref name="limits"/> is not null.</summary>
    [Alias("UpsertWithLimits")]
    Task<TenantInfo> UpsertAsync(string displayName, string? password, TenantLimitOverrides? limits);

    /// <summary>
    /// Creates a new tenant for self-service sign-up, refused when the id is taken. Idempotent for the same
    /// <paramref name="createdBy"/>, so a sign-up retried after a failure finishes instead of being locked out.
    /// </summary>
    [Alias("Create")]
    Task<TenantInfo> CreateAsync(string displayName, string createdBy);

    /// <summary>The tenant, or null when it does not exist.</summary>
    [Alias("Get"), ReadOnly]
    Task<TenantInfo?> GetAsync();

    /// <summary>The effective limits; the configured defaults for a tenant that does not exist (the configured-key tenant "default").</summary>
    [Alias("GetLimits"), ReadOnly]
    Task<TenantLimits> GetLimitsAsync();

    /// <summary>Checks a password against the stored hash in constant time; false when none is set.</summary>
    [Alias("VerifyPassword"), ReadOnly]
    Task<bool> VerifyPasswordAsync(string password);

    /// <summary>
    /// Suspends the tenant with <paramref name="reason"/> (its sends are refused with it; channels, keys and grants are kept), or
    /// lifts the suspension when it is null.
    /// </summary>
    [Alias("SetSuspension")]
    Task<TenantInfo> SetSuspensionAsync(string? reason);

    /// <summary>Why the tenant is suspended, or null when it is not (or does not exist).</summary>
    [Alias("GetSuspension"), ReadOnly]
    Task<string?> GetSuspensionAsync();

    /// <summary>Records that a channel exists, so it can be listed without scanning storage.</summary>
    [Alias("AddChannel")]
    Task AddChannelAsync(string channelId);

    [Alias("RemoveChannel")]
    Task RemoveChannelAsync(string channelId);

    [Alias("GetChannelIds"), ReadOnly]
    Task<IReadOnlyList<string>> GetChannelIdsAsync();

    /// <summary>Mints an API key: only its hash is kept; the key itself is returned once.</summary>
    [Alias("CreateApiKey")]
    Task<CreatedApiKey> CreateApiKeyAsync(string? name);

    [Alias("ListApiKeys"), ReadOnly]
    Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync();

    /// <summary>Revokes a key by id; false when the tenant has no such key.</summary>
    [Alias("RevokeApiKey")]
    Task<bool> RevokeApiKeyAsync(string keyId);

    /// <summary>Stores a named set of environment values, encrypted at rest.</summary>
    [Alias("SetEnvProfile")]
    Task SetEnvProfileAsync(string profile, IReadOnlyDictionary<string, string> values);

    /// <summary>The profile's values, or null when there is no such profile.</summary>
    [Alias("GetEnvProfile"), ReadOnly]
    Task<IReadOnlyDictionary<string, string>?> GetEnvProfileAsync(string profile);
}

[GenerateSerializer, Immutable, Alias("dovecote.TenantInfo")]
public sealed record TenantInfo(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] bool HasPassword,
    [property: Id(3)] int Channels,
    [property: Id(4)] int ApiKeys,
    [property: Id(5)] IReadOnlyList<string> EnvProfiles,
    [property: Id(6)] DateTimeOffset CreatedAt,
    /// <summary>The effective limits; null only from a silo older than limits.</summary>
    [property: Id(7)] TenantLimits? Limits = null,
    /// <summary>Why the operator suspended the tenant; null when it is not suspended.</summary>
    [property: Id(8)] string? SuspendedReason = null);

[GenerateSerializer, Immutable, Alias("dovecote.ApiKeyInfo")]
public sealed record ApiKeyInfo(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string? Name,
    /// <summary>The visible start of the key, e.g. "dvc_k3x9a2b7q1p0_", so a person can tell keys apart.</summary>
    [property: Id(2)] string Prefix,
    [property: Id(3)] DateTimeOffset CreatedAt);

/// <summary>A freshly minted key: <see cref="Key"/> is shown once and never stored.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.CreatedApiKey")]
public sealed record CreatedApiKey([property: Id(0)] ApiKeyInfo Info, [property: Id(1)] string Key)
{
    public override string ToString() => $"CreatedApiKey {{ {Info.KeyId}, Key = {Info.Prefix}**** }}";
}
