using System.Net.Sockets;
using System.Text.Json;
using Dovecote.Api;
using Dovecote.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using ModelContextProtocol.Client;

namespace Dovecote.Tests.Hosting;

/// <summary>Cluster mode: the Api as a pure Orleans client of a separate Silo process.</summary>
public sealed class ClusterModeTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-cluster-mode-").FullName;
    private readonly int _gatewayPort = FreePorts.Next();
    private readonly FakeWebhookReceiver _webhooks = new();
    private DovecoteProcess? _silo;
    private WebApplication? _api;

    public async ValueTask InitializeAsync() => await _webhooks.StartAsync();

    [Fact]
    public async Task The_api_holds_no_state_and_the_silo_process_delivers()
    {
        _silo = DovecoteProcess.Start("Silo", new Dictionary<string, string>
        {
            ["DOVECOTE_DATA_DIR"] = _dataDirectory,
            ["DOVECOTE_SILO_PORT"] = FreePorts.Next().ToString(),
            ["DOVECOTE_GATEWAY_PORT"] = _gatewayPort.ToString(),
            ["DOVECOTE_SERVICE_ID"] = "cluster-mode-test",
            ["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true",
            ["Logging__LogLevel__Default"] = "Warning",
        });
        await WaitForGatewayAsync();
        var (url, secret) = _webhooks.CreateEndpoint();
        var apiDataDirectory = Path.Combine(_dataDirectory, "api-must-not-write-here");
        _api = DovecoteApi.Create(
        [
            "--urls=http://127.0.0.1:0",
            $"--DOVECOTE_GATEWAYS=127.0.0.1:{_gatewayPort}",
            "--DOVECOTE_SERVICE_ID=cluster-mode-test",
            $"--DOVECOTE_DATA_DIR={apiDataDirectory}",
            "--DOVECOTE_API_KEYS=cluster-key-8e2f-6d1a9c3e7b0f2e5a84c1",
            $"--WEBHOOK_INSTANCES=[{JsonSerializer.Serialize(new { id = "ops", url, secret })}]",
            "--Logging:LogLevel:Default=Warning",
            .. Dovecote.Tests.OAuth.OAuthTestKeys.Arguments,
        ]);
        await _api.StartAsync(TestContext.Current.CancellationToken);

        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri($"{_api.Urls.First()}/mcp"),
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer cluster-key-8e2f-6d1a9c3e7b0f2e5a84c1" },
        });
        await using var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
        var result = await client.CallToolAsync("send_notification",
            new Dictionary<string, object?> { ["channel"] = "webhook-ops", ["message"] = "via the cluster", ["wait_seconds"] = 20 },
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("delivered", result.StructuredContent!.Value.GetProperty("deliveries")[0].GetProperty("status").GetString());
        Assert.Single(_webhooks.Deliveries);
        Assert.False(Directory.Exists(apiDataDirectory), "the Api wrote local state in cluster mode");
    }

    [Fact]
    public void Cluster_mode_refuses_to_start_without_shared_oauth_keys()
    {
        // Generated keys would differ per pod, so a token issued by one pod would fail on the next.
        var error = Assert.Throws<InvalidOperationException>(() => DovecoteApi.Create(
        [
            "--urls=http://127.0.0.1:0",
            $"--DOVECOTE_GATEWAYS=127.0.0.1:{_gatewayPort}",
            $"--DOVECOTE_DATA_DIR={Path.Combine(_dataDirectory, "unused")}",
        ]));
        Assert.Contains("DOVECOTE_OAUTH_SIGNING_KEY must be set in cluster mode", error.Message);
    }

    private async Task WaitForGatewayAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(_silo!.HasExited, $"the silo exited: {_silo.Output}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", _gatewayPort, TestContext.Current.CancellationToken);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, TestContext.Current.CancellationToken); // polling a starting process
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_api is not null) await _api.DisposeAsync();
        if (_silo is not null) await _silo.DisposeAsync();
        await _webhooks.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
