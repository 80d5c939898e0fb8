using System.Security.Cryptography;
using Dovecote.Grains.Security;
using Microsoft.IdentityModel.Tokens;

namespace Dovecote.Api.OAuth;

public sealed class OAuthKeyMaterial
{
    public required RsaSecurityKey Signing { get; init; }
    public required SymmetricSecurityKey Encryption { get; init; }
    public required byte[] Cookie { get; init; }

    /// <summary>
    /// Configured keys (validated with <see cref="OAuthKeyOptions"/>), or in embedded mode (<paramref name="embeddedDataDirectory"/>
    /// set) keys generated once and kept under the data folder, so tokens survive a restart. A cluster must configure them:
    /// pods would disagree otherwise.
    /// </summary>
    public static OAuthKeyMaterial Load(OAuthKeyOptions options, string? embeddedDataDirectory)
    {
        var folder = embeddedDataDirectory is null ? null : Path.Combine(embeddedDataDirectory, "oauth");
        var signing = Key(options.SigningKey, folder, "signing.pem", "DOVECOTE_OAUTH_SIGNING_KEY", NewSigningPem, OAuthKeyOptions.ImportSigningKey);
        var encryption = Key(options.EncryptionKey, folder, "encryption.key", "DOVECOTE_OAUTH_ENCRYPTION_KEY", KeyFiles.NewBase64Key,
            k => Base64KeyAttribute.Decode(k, 32));
        var cookie = Key(options.CookieKey, folder, "cookie.key", "COOKIE_ENCRYPTION_KEY", KeyFiles.NewBase64Key,
            k => Base64KeyAttribute.Decode(k, 32, orLonger: true));
        return new OAuthKeyMaterial { Signing = new RsaSecurityKey(signing), Encryption = new SymmetricSecurityKey(encryption), Cookie = cookie };
    }

    /// <summary>The configured key (validated already), or in embedded mode the one kept in <paramref name="file"/>.</summary>
    private static TKey Key<TKey>(string? configured, string? folder, string file, string variable, Func<string> create, Func<string, TKey?> read)
        where TKey : class
    {
        if (configured is not null)
            return read(configured) ?? throw new InvalidOperationException($"{variable} is not a valid key");
        if (folder is null)
            throw new InvalidOperationException($"{variable} must be set in cluster mode: every Api pod needs the same key");
        var path = Path.Combine(folder, file);
        return read(KeyFiles.LoadOrCreate(path, create)) ?? throw new InvalidOperationException($"{path} does not hold a valid key for {variable}");
    }

    private static string NewSigningPem()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    }
}
