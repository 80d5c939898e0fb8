namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>
/// The lookup side of one API key, keyed by its key id (the visible part of "dvc_{keyId}_{secret}").
/// Not tenant-scoped: the caller does not know the tenant until the key is verified.
/// </summary>
[Alias("dovecote.IApiKeyGrain")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    /// <summary>Binds this key id to a tenant and the SHA-256 of the key's secret. Called by the tenant grain only.</summary>
    [Alias("Register")]
    Task RegisterAsync(string tenant, byte[] secretHash);

    /// <summary>The tenant when <paramref name="secret"/> matches (compared in constant time) and the key is not revoked; else null.</summary>
    [Alias("Verify"), ReadOnly]
    Task<string?> VerifyAsync(string secret);

    [Alias("Revoke")]
    Task RevokeAsync();
}

/// <summary>The shape of Dovecote API keys.</summary>
public static class ApiKeyFormat
{
    public const string Prefix = "dvc_";

    /// <summary>Splits "dvc_{keyId}_{secret}"; false when the text is not shaped like a Dovecote key.</summary>
    public static bool TryParse(string key, out string keyId, out string secret)
    {
        keyId = secret = "";
        if (!key.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var rest = key.AsSpan(Prefix.Length);
        var separator = rest.IndexOf('_');
        if (separator is < 8 or > 32 || rest.Length - separator - 1 < 20) return false;
        keyId = rest[..separator].ToString();
        secret = rest[(separator + 1)..].ToString();
        return true;
    }
}
