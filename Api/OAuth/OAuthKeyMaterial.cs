using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.Tokens;

namespace Dovecote.Api.OAuth;

/// <summary>The key material of the authorization server, read from configuration so every Api pod holds the same keys.</summary>
public sealed class OAuthKeyOptions
{
    /// <summary>PEM of an RSA private key ("-----BEGIN PRIVATE KEY-----..."); signs tokens.</summary>
    [ConfigurationKeyName("DOVECOTE_OAUTH_SIGNING_KEY")]
    public string? SigningKey { get; set; }

    /// <summary>Base64 of 32 bytes; encrypts tokens (A256KW).</summary>
    [ConfigurationKeyName("DOVECOTE_OAUTH_ENCRYPTION_KEY")]
    public string? EncryptionKey { get; set; }

    /// <summary>Base64 of at least 32 bytes; HMACs the consent page's CSRF cookie.</summary>
    [ConfigurationKeyName("COOKIE_ENCRYPTION_KEY")]
    public string? CookieKey { get; set; }
}

public sealed class OAuthKeyMaterial
{
    public required RsaSecurityKey Signing { get; init; }
    public required SymmetricSecurityKey Encryption { get; init; }
    public required byte[] Cookie { get; init; }

    /// <summary>
    /// Configured keys, or in embedded mode (<paramref name="embeddedDataDirectory"/> set) keys generated once and kept
    /// under the data folder, so tokens survive a restart. A cluster must configure them: pods would disagree otherwise.
    /// </summary>
    public static OAuthKeyMaterial Load(IConfiguration configuration, string? embeddedDataDirectory)
    {
        var options = new OAuthKeyOptions();
        configuration.Bind(options);
        var folder = embeddedDataDirectory is null ? null : Path.Combine(embeddedDataDirectory, "oauth");

        var signingPem = options.SigningKey is { Length: > 0 } pem ? pem.Replace("\\n", "\n") : ReadOrCreate(folder, "signing.pem", "DOVECOTE_OAUTH_SIGNING_KEY", NewSigningPem);
        var rsa = RSA.Create();
        try { rsa.ImportFromPem(signingPem); }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new InvalidOperationException("DOVECOTE_OAUTH_SIGNING_KEY must be the PEM of an RSA private key (2048 bits or more)");
        }
        if (rsa.KeySize < 2048) throw new InvalidOperationException("DOVECOTE_OAUTH_SIGNING_KEY must be an RSA key of 2048 bits or more");

        var encryption = Base64Key(options.EncryptionKey ?? ReadOrCreate(folder, "encryption.key", "DOVECOTE_OAUTH_ENCRYPTION_KEY", NewBase64Key),
            "DOVECOTE_OAUTH_ENCRYPTION_KEY", exactly: 32);
        var cookie = Base64Key(options.CookieKey ?? ReadOrCreate(folder, "cookie.key", "COOKIE_ENCRYPTION_KEY", NewBase64Key),
            "COOKIE_ENCRYPTION_KEY", exactly: null);

        return new OAuthKeyMaterial { Signing = new RsaSecurityKey(rsa), Encryption = new SymmetricSecurityKey(encryption), Cookie = cookie };
    }

    private static string NewSigningPem()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    }

    private static string NewBase64Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static string ReadOrCreate(string? folder, string file, string variable, Func<string> create)
    {
        if (folder is null)
            throw new InvalidOperationException($"{variable} must be set in cluster mode: every Api pod needs the same key");
        var path = Path.Combine(folder, file);
        if (File.Exists(path)) return File.ReadAllText(path);
        Directory.CreateDirectory(folder);
        var value = create();
        var temp = path + ".tmp";
        File.WriteAllText(temp, value);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: false);
        return value;
    }

    private static byte[] Base64Key(string value, string variable, int? exactly)
    {
        var buffer = new byte[256];
        if (!Convert.TryFromBase64String(value.Trim(), buffer, out var length) || length < 32 || (exactly is { } n && length != n))
            throw new InvalidOperationException(exactly is null ? $"{variable} must be the base64 of at least 32 bytes" : $"{variable} must be the base64 of {exactly} bytes");
        return buffer[..length];
    }
}
