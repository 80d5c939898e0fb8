using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Security;

/// <summary>Configured keys for tenant "default": DOVECOTE_API_KEYS, comma-separated.</summary>
public sealed class ApiKeyOptions
{
    [ConfigurationKeyName("DOVECOTE_API_KEYS")]
    public string? ConfiguredKeys { get; set; }

    private byte[][]? _digests;

    /// <summary>Hashed once: options are a singleton, while the handler is created for every request.</summary>
    internal byte[][] ConfiguredKeyDigests => _digests ??=
        (ConfiguredKeys ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
}
