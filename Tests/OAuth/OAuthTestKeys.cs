using System.Security.Cryptography;

namespace Dovecote.Tests.OAuth;

/// <summary>OAuth key material for an Api started in cluster mode, where nothing is generated: the same for every pod that gets it.</summary>
public static class OAuthTestKeys
{
    private static readonly Lazy<string[]> Shared = new(Create);

    /// <summary>Command-line arguments setting the signing, encryption and cookie keys.</summary>
    public static string[] Arguments => Shared.Value;

    /// <summary>The same keys as environment variables, for a child process.</summary>
    public static IReadOnlyDictionary<string, string> Environment =>
        Arguments.Select(a => a[2..].Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);

    private static string[] Create()
    {
        using var rsa = RSA.Create(2048);
        return
        [
            $"--DOVECOTE_OAUTH_SIGNING_KEY={rsa.ExportPkcs8PrivateKeyPem()}",
            $"--DOVECOTE_OAUTH_ENCRYPTION_KEY={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            $"--COOKIE_ENCRYPTION_KEY={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
        ];
    }
}
