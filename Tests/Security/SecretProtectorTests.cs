using System.Security.Cryptography;
using Dovecote.Grains.Security;

namespace Dovecote.Tests.Security;

public sealed class SecretProtectorTests
{
    private readonly SecretProtector _protector = new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Round_trips_and_hides_the_plaintext()
    {
        var sealedText = _protector.Protect("bot-token-123", "acme/tg");

        Assert.DoesNotContain("bot-token", sealedText);
        Assert.Equal("bot-token-123", _protector.Unprotect(sealedText, "acme/tg"));
    }

    [Fact]
    public void A_ciphertext_moved_to_another_channel_does_not_decrypt()
    {
        var sealedText = _protector.Protect("bot-token-123", "acme/tg");

        Assert.ThrowsAny<CryptographicException>(() => _protector.Unprotect(sealedText, "globex/tg"));
    }

    [Fact]
    public void Another_key_cannot_decrypt()
    {
        var sealedText = _protector.Protect("bot-token-123", "acme/tg");

        Assert.ThrowsAny<CryptographicException>(() => new SecretProtector(RandomNumberGenerator.GetBytes(32)).Unprotect(sealedText, "acme/tg"));
    }

    [Fact]
    public void Embedded_mode_creates_a_key_once_and_reuses_it()
    {
        var directory = Directory.CreateTempSubdirectory("dovecote-key-").FullName;
        try
        {
            var file = Path.Combine(directory, "secrets.key");
            var first = SecretProtector.LoadKey(null, file);
            var second = SecretProtector.LoadKey(null, file);

            Assert.Equal(32, first.Length);
            Assert.Equal(first, second);
            if (OperatingSystem.IsLinux())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Outside_embedded_mode_a_key_is_required() =>
        Assert.Contains("DOVECOTE_SECRETS_KEY", Assert.Throws<InvalidOperationException>(() => SecretProtector.LoadKey(null, null)).Message);
}
