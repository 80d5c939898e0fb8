using System.Net;
using Dovecote.Grains.Hosting;
using Dovecote.Tests.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Dovecote.Tests.Cluster;

/// <summary>The Silo executable's probes and its refusals, as Kubernetes and an operator meet them.</summary>
public sealed class SiloProbeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_lone_silo_is_live_started_and_ready()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("dovecote-probe-").FullName;
        await using (var silo = DovecoteProcess.Start("Silo", new Dictionary<string, string>
        {
            ["DOVECOTE_DATA_DIR"] = dataDirectory,
            ["DOVECOTE_SILO_PORT"] = FreePorts.Next().ToString(),
            ["DOVECOTE_GATEWAY_PORT"] = FreePorts.Next().ToString(),
            ["Logging__LogLevel__Default"] = "Warning",
        }))
        {
            await silo.WaitUntilReadyAsync($"{silo.HttpUrl}/health/ready");
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{silo.HttpUrl}/health/live", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{silo.HttpUrl}/health/startup", Ct)).StatusCode);
        }
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_silo_that_cannot_reach_its_store_is_live_but_neither_started_nor_ready()
    {
        var closedPort = FreePorts.Next();
        await using var silo = DovecoteProcess.Start("Silo", new Dictionary<string, string>
        {
            ["DOVECOTE_CLUSTERING"] = ClusteringOptions.Redis,
            ["DOVECOTE_REDIS"] = $"127.0.0.1:{closedPort}",
            ["DOVECOTE_SECRETS_KEY"] = ClusterHosts.SecretsKey,
            ["DOVECOTE_ADVERTISED_IP"] = "127.0.0.1",
            ["DOVECOTE_SILO_PORT"] = FreePorts.Next().ToString(),
            ["DOVECOTE_GATEWAY_PORT"] = FreePorts.Next().ToString(),
            ["Logging__LogLevel__Default"] = "Warning",
        });
        await silo.WaitUntilReadyAsync($"{silo.HttpUrl}/health/live");

        using var http = new HttpClient();
        using var startup = await http.GetAsync($"{silo.HttpUrl}/health/startup", Ct);
        using var ready = await http.GetAsync($"{silo.HttpUrl}/health/ready", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, startup.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("starting", await startup.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public void A_cluster_silo_without_a_shared_secrets_key_refuses_to_start_naming_the_variable()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DOVECOTE_CLUSTERING"] = ClusteringOptions.Redis,
            ["DOVECOTE_REDIS"] = "127.0.0.1:6379",
        });

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddDovecoteSilo());
        Assert.Contains("DOVECOTE_SECRETS_KEY must be set when DOVECOTE_CLUSTERING is redis", error.Message);
    }
}
