using Dovecote.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Dovecote.Tests.Cluster;

/// <summary>
/// Silos and clients of one test cluster on a real store, built by the production <c>AddDovecoteSilo</c> and
/// <c>UseDovecoteClusterStore</c> from the documented variables, on loopback TCP in this process.
/// </summary>
public sealed class ClusterHosts(string mode, string connection) : IAsyncDisposable
{
    /// <summary>A fixed test key: every silo of a cluster must share DOVECOTE_SECRETS_KEY.</summary>
    public const string SecretsKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    private readonly List<IHost> _hosts = [];

    /// <summary>Plain alphanumeric and new per cluster, so Redis membership and state of an earlier run never meet this one.</summary>
    public string ServiceId { get; } = "test" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// What every process of a test cluster on <paramref name="mode"/>'s store shares, as environment variables: the store,
    /// the Orleans identity, the secrets key, loopback targets, and quiet logs.
    /// </summary>
    public static Dictionary<string, string> StoreEnvironment(string mode, string connection, string serviceId) => new()
    {
        ["DOVECOTE_CLUSTERING"] = mode,
        [mode == ClusteringOptions.Azure ? "DOVECOTE_AZURE_STORAGE" : "DOVECOTE_REDIS"] = connection,
        ["DOVECOTE_SERVICE_ID"] = serviceId,
        ["DOVECOTE_CLUSTER_ID"] = "test",
        ["DOVECOTE_SECRETS_KEY"] = SecretsKey,
        ["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true",
        ["Logging__LogLevel__Default"] = "Warning",
        // The Azure provider logs an ETag conflict as an error even though the caller gets it as designed.
        ["Logging__LogLevel__Orleans.Storage"] = "None",
    };

    /// <summary>The same as configuration keys, plus fast failure detection and retries for in-process silos.</summary>
    public Dictionary<string, string?> Settings() => new(StoreEnvironment(mode, connection, ServiceId)
        .Select(setting => KeyValuePair.Create(setting.Key.Replace("__", ":"), (string?)setting.Value)))
    {
        ["DOVECOTE_ADVERTISED_IP"] = "127.0.0.1",
        ["Membership:ProbeTimeout"] = "00:00:01",
        ["Delivery:ReminderPeriod"] = "00:00:02",
        ["Delivery:InitialBackoff"] = "00:00:00.200",
        ["Delivery:MaxBackoff"] = "00:00:01",
        ["Delivery:AttemptTimeout"] = "00:00:05",
    };

    public async Task<IHost> StartSiloAsync(string name)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(Settings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DOVECOTE_SILO_PORT"] = FreePorts.Next().ToString(),
            ["DOVECOTE_GATEWAY_PORT"] = FreePorts.Next().ToString(),
            ["DOVECOTE_SILO_NAME"] = name,
        });
        builder.AddDovecoteSilo();
        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        _hosts.Add(host);
        return host;
    }

    public async Task<IClusterClient> StartClientAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var clustering = new ClusteringOptions
        {
            Mode = mode,
            AzureStorageConnection = mode == ClusteringOptions.Azure ? connection : null,
            RedisConnection = mode == ClusteringOptions.Redis ? connection : null,
        };
        builder.UseOrleansClient(client => client
            .Configure<ClusterOptions>(o => (o.ServiceId, o.ClusterId) = (ServiceId, "test"))
            .UseDovecoteClusterStore(clustering));
        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        _hosts.Add(host);
        return host.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>Stops a silo gracefully: it leaves the membership table as Dead and its grains deactivate.</summary>
    public async Task StopAsync(IHost host)
    {
        await host.StopAsync(TestContext.Current.CancellationToken);
        _hosts.Remove(host);
        host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        // Clients first, then silos, newest first.
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            try { await _hosts[i].StopAsync(CancellationToken.None); } catch (Exception) { /* tearing down */ }
            _hosts[i].Dispose();
        }
    }
}
