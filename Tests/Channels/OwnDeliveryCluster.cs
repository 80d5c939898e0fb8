using Dovecote.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.TestingHost;

namespace Dovecote.Tests.Channels;

/// <summary>
/// A started two-silo delivery cluster of one test's own (so it may kill a silo or replace a service), on an embedded
/// state log in a temporary folder that goes with it.
/// </summary>
public sealed class OwnDeliveryCluster : IAsyncDisposable
{
    private readonly string _dataDirectory;
    private readonly GrainStateLog _log;

    private OwnDeliveryCluster(string dataDirectory, GrainStateLog log, InProcessTestCluster cluster) =>
        (_dataDirectory, _log, Cluster) = (dataDirectory, log, cluster);

    public InProcessTestCluster Cluster { get; }

    /// <summary>The embedded state log both silos write to.</summary>
    public GrainStateLog Log => _log;

    public IClusterClient Client => Cluster.Client;

    public static async Task<OwnDeliveryCluster> StartAsync(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("dovecote-own-cluster-").FullName;
        var log = new GrainStateLog(new GrainStateLogOptions { Directory = Path.Combine(dataDirectory, "grains") }, NullLogger<GrainStateLog>.Instance);
        var own = new OwnDeliveryCluster(dataDirectory, log, DeliveryClusterFixture.BuildCluster(log, dataDirectory, settings, services: services));
        try
        {
            await own.Cluster.DeployAsync(TestContext.Current.CancellationToken);
            return own;
        }
        catch
        {
            await own.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await _log.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
