using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Dovecote.Grains.Security;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.OAuth;

/// <summary>
/// The key material of the authorization server, so every Api pod holds the same keys. Bound from the root of
/// configuration; unset, embedded mode generates each key once under the data folder and cluster mode refuses to start.
/// </summary>
public sealed class OAuthKeyOptions
{
    /// <summary>PEM of an RSA private key ("-----BEGIN PRIVATE KEY-----..."; "\n" escapes allowed); signs tokens.</summary>
    [ConfigurationKeyName("DOVECOTE_OAUTH_SIGNING_KEY"), CustomValidation(typeof(OAuthKeyOptions), nameof(CheckSigningKey))]
    public string? SigningKey { get; set => field = string.IsNullOrEmpty(value) ? null : value.Replace("\\n", "\n"); }

    /// <summary>Base64 of 32 bytes; encrypts tokens (A256KW).</summary>
    [ConfigurationKeyName("DOVECOTE_OAUTH_ENCRYPTION_KEY"), Base64Key(32)]
    public string? EncryptionKey { get; set; }

    /// <summary>Base64 of at least 32 bytes; HMACs the consent page's CSRF cookie.</summary>
    [ConfigurationKeyName("COOKIE_ENCRYPTION_KEY"), Base64Key(32, OrLonger = true)]
    public string? CookieKey { get; set; }

    public const int MinimumSigningKeyBits = 2048;

    public static ValidationResult? CheckSigningKey(string? pem, ValidationContext context)
    {
        if (pem is null) return ValidationResult.Success;
        using var rsa = ImportSigningKey(pem);
        return rsa is null
            ? new ValidationResult($"{context.DisplayName} must be the PEM of an RSA private key of {MinimumSigningKeyBits} bits or more")
            : ValidationResult.Success;
    }

    /// <summary>The RSA key in <paramref name="pem"/>, or null when it is not an RSA private key of 2048 bits or more.</summary>
    public static RSA? ImportSigningKey(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            if (rsa.KeySize >= MinimumSigningKeyBits) return rsa;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException) { }
        rsa.Dispose();
        return null;
    }
}
