using System.Globalization;
using System.Security.Cryptography;

namespace Dovecote.Grains.Tenants;

/// <summary>PBKDF2-SHA256 password hashes, stored as "pbkdf2-sha256$iterations$salt$hash" with base64 salt and hash.</summary>
internal static class PasswordHash
{
    private const string Scheme = "pbkdf2-sha256";
    private const int Iterations = 100_000;
    private const int SaltSize = 16;
    private const int HashSize = 32;

    /// <summary>Checked against when there is no stored hash, so "no such tenant" costs what "wrong password" costs.</summary>
    private static readonly string Dummy = Create("dovecote dummy password");

    public static string Create(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, Iterations, HashAlgorithmName.SHA256, HashSize);
        return $"{Scheme}${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>Whether <paramref name="password"/> matches <paramref name="stored"/>; always hashes, also when there is nothing stored.</summary>
    public static bool Verify(string password, string? stored)
    {
        var matches = Matches(password, stored ?? Dummy);
        return stored is not null && matches;
    }

    private static bool Matches(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < 1)
            return false;
        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            expected = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }
        if (expected.Length == 0) return false;
        // The stored iteration count, not today's constant: raising the constant later keeps old hashes valid.
        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
