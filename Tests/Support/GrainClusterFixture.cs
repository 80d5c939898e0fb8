using System.Text;
using Dovecote.Grains.Storage;
using Dovecote.Tests.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.TestingHost;

namespace Dovecote.Tests.Support;

/// <summary>
/// A real two-silo cluster on the embedded storage for the tenant, API key, rate limit and audit grains:
/// no platform fakes, and a collection of its own so these tests run beside the delivery tests.
/// </summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    private static int _next;
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-grains-").FullName;

    public GrainStateLog Log { get; private set; } = null!;
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    /// <summary>A tenant id no other test uses.</summary>
    public static string UniqueTenant(string prefix) => $"{prefix}-{Interlocked.Increment(ref _next)}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Every stored row (grain state and reminders) as text, keyed by its storage key.</summary>
    public IReadOnlyList<(string Key, string Text)> StoredText(string prefix = "") =>
        Log.Scan(prefix).Select(e => (e.Key, Encoding.UTF8.GetString(e.Value.Data.Span))).ToList();

    public async ValueTask InitializeAsync()
    {
        Log = new GrainStateLog(new GrainStateLogOptions { Directory = Path.Combine(_dataDirectory, "grains") }, NullLogger<GrainStateLog>.Instance);
        Cluster = DeliveryClusterFixture.BuildCluster(Log, _dataDirectory, []);
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Log.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class GrainClusterCollection : ICollectionFixture<GrainClusterFixture>
{
    public const string Name = "grain cluster";
}
