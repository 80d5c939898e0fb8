namespace Dovecote.Grains.Tenants;

/// <summary>Everything a tenant owns besides its channels and audit days. Holds no API key secrets or their hashes.</summary>
[GenerateSerializer, Alias("dovecote.TenantState")]
public sealed class TenantState
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public string DisplayName { get; set; } = "";
    [Id(2)] public DateTimeOffset CreatedAt { get; set; }
    /// <summary>"pbkdf2-sha256$iterations$salt$hash" (base64), or null when the tenant has no password.</summary>
    [Id(3)] public string? PasswordHash { get; set; }
    /// <summary>Channel ids in ordinal order.</summary>
    [Id(4)] public List<string> ChannelIds { get; set; } = [];
    /// <summary>Live keys only: revoked ones are removed (the key grain keeps the revocation).</summary>
    [Id(5)] public List<ApiKeyEntry> ApiKeys { get; set; } = [];
    /// <summary>Profile name → the profile's JSON, AES-GCM encrypted and bound to "{tenant}/env/{profile}".</summary>
    [Id(6)] public Dictionary<string, string> EnvProfiles { get; set; } = [];
    /// <summary>The operator's limits; null members (and a state stored before limits) follow the configured defaults.</summary>
    [Id(7)] public TenantLimitOverrides? Limits { get; set; }
    /// <summary>The account that created the tenant by self-service sign-up; null for tenants the operator created.</summary>
    [Id(8)] public string? CreatedBy { get; set; }
    /// <summary>Why the operator suspended the tenant (its sends are refused with it); null when it is not suspended.</summary>
    [Id(9)] public string? SuspendedReason { get; set; }

    public override string ToString() =>
        $"TenantState {{ {DisplayName}, {ChannelIds.Count} channels, {ApiKeys.Count} keys, {EnvProfiles.Count} env profiles }}";
}

/// <summary>What the tenant remembers of a key: enough to list and revoke it, nothing to verify it with.</summary>
[GenerateSerializer, Alias("dovecote.ApiKeyEntry")]
public sealed record ApiKeyEntry(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string? Name,
    [property: Id(2)] string Prefix,
    [property: Id(3)] DateTimeOffset CreatedAt);
