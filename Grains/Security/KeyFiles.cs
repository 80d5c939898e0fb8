using System.Security.Cryptography;

namespace Dovecote.Grains.Security;

/// <summary>Keys that embedded mode generates on first start and keeps under the data folder, readable by this user only.</summary>
public static class KeyFiles
{
    /// <summary>
    /// The key in <paramref name="path"/>, or a new one from <paramref name="create"/>. The file is created with mode 0600 (never
    /// readable by others, not even for a moment) and moved into place whole, so a crash leaves no partial key and of two
    /// processes starting at once both use the first key written.
    /// </summary>
    public static string LoadOrCreate(string path, Func<string> create)
    {
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);

        var value = create();
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(temp, options))
        {
            writer.Write(value);
            writer.Flush();
            ((FileStream)writer.BaseStream).Flush(flushToDisk: true);
        }
        try
        {
            File.Move(temp, path, overwrite: false);
            return value;
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return File.ReadAllText(path).Trim();
        }
    }

    /// <summary>32 random bytes as base64: the symmetric keys (secrets at rest, token encryption, CSRF cookie).</summary>
    public static string NewBase64Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
