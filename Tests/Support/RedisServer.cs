namespace Dovecote.Tests.Support;

/// <summary>Debian's redis-server (installed by .ci/run) on a free loopback port, append-only into a folder of its own.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string Executable = "/usr/bin/redis-server";

    private readonly string _directory = Directory.CreateTempSubdirectory("dovecote-redis-").FullName;
    private readonly ChildProcess _process;

    private RedisServer(int port)
    {
        Port = port;
        _process = new ChildProcess(Executable,
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", _directory]);
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: run .ci/run, or `apt-get install -y redis-server`");
        var server = new RedisServer(FreePorts.Next());
        await server._process.WaitForPortAsync(server.Port, "redis-server");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
