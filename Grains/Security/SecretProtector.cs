using System.Security.Cryptography;
using System.Text;

namespace Dovecote.Grains.Security;

/// <summary>
/// Encrypts channel secrets at rest with AES-256-GCM. The grain key is bound in as associated data,
/// so a ciphertext copied into another tenant's channel does not decrypt.
/// </summary>
public sealed class SecretProtector
{
    private const string Version = "v1.";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int KeySize = 32;
    private readonly byte[] _key;

    public SecretProtector(byte[] key)
    {
        if (key.Length != KeySize) throw new ArgumentException("The secrets key must be 32 bytes.", nameof(key));
        _key = key;
    }

    public string Protect(string plaintext, string boundTo)
    {
        var input = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + TagSize + input.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, input, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(boundTo));
        return Version + Convert.ToBase64String(output);
    }

    public string Unprotect(string protectedText, string boundTo)
    {
        if (!protectedText.StartsWith(Version, StringComparison.Ordinal))
            throw new CryptographicException("Unknown secret format.");
        var input = Convert.FromBase64String(protectedText[Version.Length..]);
        if (input.Length < NonceSize + TagSize) throw new CryptographicException("Truncated secret.");
        var output = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize + TagSize), input.AsSpan(NonceSize, TagSize), output, Encoding.UTF8.GetBytes(boundTo));
        return Encoding.UTF8.GetString(output);
    }

    /// <summary>
    /// The configured key (DOVECOTE_SECRETS_KEY, validated at start-up by SiloHostOptions), or in embedded mode the one
    /// created under the data folder on first start.
    /// </summary>
    public static byte[] LoadKey(string? configuredBase64, string? keyFileForEmbedded)
    {
        if (!string.IsNullOrWhiteSpace(configuredBase64))
            return Base64KeyAttribute.Decode(configuredBase64, KeySize)
                ?? throw new InvalidOperationException("DOVECOTE_SECRETS_KEY must be the base64 of 32 bytes");
        if (keyFileForEmbedded is null)
            throw new InvalidOperationException("DOVECOTE_SECRETS_KEY must be set outside embedded mode.");
        return Base64KeyAttribute.Decode(KeyFiles.LoadOrCreate(keyFileForEmbedded, KeyFiles.NewBase64Key), KeySize)
            ?? throw new InvalidOperationException($"{keyFileForEmbedded} does not hold the base64 of a 32-byte secrets key");
    }
}
