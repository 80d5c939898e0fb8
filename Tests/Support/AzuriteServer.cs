namespace Dovecote.Tests.Support;

/// <summary>Azurite's table service (npm azurite, installed by Tests/node/install.sh) on a free loopback port, in a folder of its own.</summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dovecote-azurite-").FullName;
    private readonly ChildProcess _process;

    private AzuriteServer(int port)
    {
        Port = port;
        var main = Path.Combine(NodeTooling.NodeDirectory, "node_modules", "azurite", "dist", "src", "table", "main.js");
        _process = new ChildProcess(NodeTooling.Node,
            [main, "--tableHost", "127.0.0.1", "--tablePort", port.ToString(), "--location", _directory, "--skipApiVersionCheck", "--silent"]);
    }

    public int Port { get; }

    /// <summary>The emulator's well-known development account (public, not a secret).</summary>
    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        + "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        + $"TableEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    public static async Task<AzuriteServer> StartAsync()
    {
        NodeTooling.RequireInstalled();
        var server = new AzuriteServer(FreePorts.Next());
        await server._process.WaitForPortAsync(server.Port, "azurite-table");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
