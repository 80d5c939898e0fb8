using System.Text.Json;
using Dovecote.Tests.Cluster;
using Dovecote.Tests.Fakes;
using Dovecote.Tests.Hosting;
using Dovecote.Tests.OAuth;

namespace Dovecote.Tests.Deploy;

/// <summary>
/// The chart drives the real executables: the environment its Deployments, ConfigMap and Secret give each container is
/// what three published Silos and two published Apis start with, on loopback against Azurite or redis-server, as an unprivileged user
/// with only a temporary folder writable. A variable the chart names and the executables do not read (or the reverse)
/// breaks the cluster here.
/// </summary>
public sealed class ChartDrivenClusterTests(PublishedExecutables published) : IClassFixture<PublishedExecutables>
{
    private const string ApiKey = "chart-key-2f6b-91c4d7e0a3b58f1e6c2d";

    [Theory(Timeout = 180_000)]
    [InlineData("azure")]
    [InlineData("redis")]
    public async Task Ci_values_start_a_cluster_whose_apis_deliver(string store)
    {
        await using IAsyncDisposable server = store == "azure" ? await AzuriteServer.StartAsync() : await RedisServer.StartAsync();
        var connection = server is AzuriteServer azurite ? azurite.ConnectionString : ((RedisServer)server).ConnectionString;
        await using var webhooks = new FakeWebhookReceiver();
        await webhooks.StartAsync();
        var endpoints = new[] { webhooks.CreateEndpoint(), webhooks.CreateEndpoint() };

        // The operator's part of the values, as a file beside ci/{store}-values.yaml (JSON is YAML): the store, the keys, the channels.
        var values = Path.GetTempFileName();
        await File.WriteAllTextAsync(values, JsonSerializer.Serialize(new
        {
            store = new { type = store, connectionString = connection },
            secrets = new
            {
                secretsKey = ClusterHosts.SecretsKey,
                oauthSigningKey = OAuthTestKeys.Environment["DOVECOTE_OAUTH_SIGNING_KEY"],
                oauthEncryptionKey = OAuthTestKeys.Environment["DOVECOTE_OAUTH_ENCRYPTION_KEY"],
                cookieEncryptionKey = OAuthTestKeys.Environment["COOKIE_ENCRYPTION_KEY"],
                apiKeys = ApiKey,
            },
            channels = new { webhook = endpoints.Select((e, i) => new { id = $"hook{i}", url = e.Url, secret = e.Secret }) },
        }), TestContext.Current.CancellationToken);
        RenderedChart chart;
        try
        {
            chart = await HelmChartTests.RenderAsync(Path.Combine(HelmCheck.Chart, "ci", $"{store}-values.yaml"), values);
        }
        finally
        {
            File.Delete(values);
        }

        var processes = new List<DovecoteProcess>();
        try
        {
            var silos = Enumerable.Range(0, 3).Select(i => StartSilo(chart, $"release-dovecote-silo-5d8f7c9b4-{i}")).ToList();
            processes.AddRange(silos);
            await Task.WhenAll(silos.Select(s => s.WaitUntilReadyAsync($"{s.HttpUrl}/health/ready")));

            var apis = Enumerable.Range(0, 2).Select(i => StartApi(chart, $"release-dovecote-api-6c4b8d7f5-{i}")).ToList();
            processes.AddRange(apis);
            await Task.WhenAll(apis.Select(a => a.WaitUntilReadyAsync($"{a.HttpUrl}/health/ready")));
            foreach (var silo in silos) await silo.WaitUntilReadyAsync($"{silo.HttpUrl}/health/ready");

            for (var i = 0; i < apis.Count; i++)
            {
                var message = $"through api {i}";
                var answer = await DovecoteProcess.CallToolAsync($"{apis[i].HttpUrl}/mcp", ApiKey, "send_notification",
                    new { channel = $"webhook-hook{i}", message, wait_seconds = 20 });
                var delivery = answer.GetProperty("deliveries")[0];
                Assert.True(delivery.GetProperty("status").GetString() == "delivered", $"{delivery}\n{Logs(processes)}");
                Assert.Contains(webhooks.Deliveries, d => d.Body.Contains(message, StringComparison.Ordinal));
            }
            Assert.All(processes, p => Assert.False(p.HasExited, Logs(processes)));
            // Really unprivileged: the kernel's view of each process, not the command line that asked for it.
            Assert.All(processes, p => Assert.Contains($"Uid:\t{PublishedExecutables.Uid}\t{PublishedExecutables.Uid}",
                File.ReadAllText($"/proc/{p.ProcessId}/status")));
        }
        finally
        {
            foreach (var process in processes) await process.DisposeAsync();
        }
    }

    /// <summary>
    /// The silo container's environment with the downward API resolved (pod IP → 127.0.0.1). Only what loopback needs is
    /// replaced: the chart gives every pod the same silo, gateway and probe ports (each pod has its own IP), and three
    /// processes on one address need three of each.
    /// </summary>
    private DovecoteProcess StartSilo(RenderedChart chart, string podName)
    {
        var environment = chart.Environment("-silo", "silo", podIp: "127.0.0.1", podName);
        Assert.True(environment.ContainsKey(environment["DOVECOTE_CLUSTERING"] == "azure" ? "DOVECOTE_AZURE_STORAGE" : "DOVECOTE_REDIS"));
        Assert.Equal(podName, environment["DOVECOTE_SILO_NAME"]);
        Assert.Equal("127.0.0.1", environment["DOVECOTE_ADVERTISED_IP"]);
        Assert.Equal("http://+:8081", environment["ASPNETCORE_URLS"]);
        Assert.Equal("11111", environment["DOVECOTE_SILO_PORT"]);
        Assert.Equal("30000", environment["DOVECOTE_GATEWAY_PORT"]);
        environment["DOVECOTE_SILO_PORT"] = FreePorts.Next().ToString();
        environment["DOVECOTE_GATEWAY_PORT"] = FreePorts.Next().ToString();
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}";
        environment["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true"; // the webhook receiver is on loopback
        return published.Start("Silo", environment);
    }

    /// <summary>The Api container's environment; only its listening address is replaced (a free loopback port).</summary>
    private DovecoteProcess StartApi(RenderedChart chart, string podName)
    {
        var environment = chart.Environment("-api", "api", podIp: "127.0.0.1", podName);
        Assert.StartsWith("https://", environment["DOVECOTE_PUBLIC_URL"]);
        Assert.Equal("http://+:8080", environment["ASPNETCORE_URLS"]);
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}";
        environment["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true";
        return published.Start("Api", environment);
    }

    private static string Logs(IEnumerable<DovecoteProcess> processes) =>
        string.Join("\n", processes.Select((p, i) => $"--- process {i} ---\n{(p.Output.Length > 3000 ? p.Output[^3000..] : p.Output)}"));
}
