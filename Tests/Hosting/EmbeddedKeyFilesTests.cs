using Dovecote.Api;

namespace Dovecote.Tests.Hosting;

/// <summary>Embedded mode generates the OAuth keys once under the data folder (KeyFiles), readable by this user only.</summary>
public sealed class EmbeddedKeyFilesTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-keys-").FullName;

    [Fact]
    public async Task The_oauth_keys_are_created_once_with_mode_0600_and_kept_across_restarts()
    {
        await using (DovecoteApi.Create(Arguments())) { }
        var files = new[] { "signing.pem", "encryption.key", "cookie.key" }.Select(f => Path.Combine(_dataDirectory, "oauth", f)).ToArray();
        var first = files.Select(File.ReadAllText).ToArray();

        await using (DovecoteApi.Create(Arguments())) { }

        Assert.Equal(first, files.Select(File.ReadAllText));
        if (OperatingSystem.IsLinux())
            foreach (var file in files) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dataDirectory, "oauth"), "*.tmp"));
    }

    private string[] Arguments() => ["--urls=http://127.0.0.1:0", $"--DOVECOTE_DATA_DIR={_dataDirectory}", "--Logging:LogLevel:Default=Warning"];

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
