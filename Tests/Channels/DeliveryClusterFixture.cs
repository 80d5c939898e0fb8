using Dovecote.Grains.Hosting;
using Dovecote.Grains.Storage;
using Dovecote.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.TestingHost;

namespace Dovecote.Tests.Channels;

/// <summary>
/// A real two-silo Orleans cluster whose silos share one embedded state log (the way cluster silos share one store),
/// with every platform faked by a real Kestrel server on loopback. Delivery timings are shortened.
/// </summary>
public class DeliveryClusterFixture : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-cluster-").FullName;
    private readonly Action<Dictionary<string, string?>>? _adjustSettings;

    public DeliveryClusterFixture()
    {
    }

    /// <summary>For a cluster of its own whose silos get other settings than <see cref="DeliverySettings"/>.</summary>
    protected DeliveryClusterFixture(Action<Dictionary<string, string?>> adjustSettings) => _adjustSettings = adjustSettings;

    public FakeTelegramServer Telegram { get; } = new();
    public FakeDiscordServer Discord { get; } = new();
    public FakeSlackServer Slack { get; } = new();
    public FakeWebhookReceiver Webhooks { get; } = new();
    public GrainStateLog Log { get; private set; } = null!;
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    /// <summary>Settings every silo of a test cluster gets; tests may add more.</summary>
    public static Dictionary<string, string?> DeliverySettings(string telegramBaseUrl) => new()
    {
        ["TELEGRAM_API_BASE_URL"] = telegramBaseUrl,
        ["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true",
        ["Delivery:AttemptTimeout"] = "00:00:01",
        ["Delivery:InitialBackoff"] = "00:00:00.200",
        ["Delivery:MaxBackoff"] = "00:00:01",
        ["Delivery:MaxAttempts"] = "4",
        ["Delivery:ReminderPeriod"] = "00:00:01",
        ["Delivery:OutboxCapacity"] = "20",
        ["Delivery:OutboxBudgetBytes"] = "262144", // the least allowed, so a few long messages show byte backpressure
        ["Delivery:CircuitBreakDuration"] = "00:00:01",
    };

    public async ValueTask InitializeAsync()
    {
        await Task.WhenAll(Telegram.StartAsync(), Discord.StartAsync(), Slack.StartAsync(), Webhooks.StartAsync());
        Log = new GrainStateLog(new GrainStateLogOptions { Directory = Path.Combine(_dataDirectory, "grains") }, NullLogger<GrainStateLog>.Instance);
        var settings = DeliverySettings(Telegram.BaseUrl);
        _adjustSettings?.Invoke(settings);
        Cluster = BuildCluster(Log, _dataDirectory, settings);
        await Cluster.DeployAsync();
    }

    /// <summary>A cluster on <paramref name="log"/>; give the same <paramref name="serviceId"/> to restart one on the state another left.</summary>
    public static InProcessTestCluster BuildCluster(
        GrainStateLog log, string dataDirectory, Dictionary<string, string?> settings, string? serviceId = null, Action<IServiceCollection>? services = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(2);
        if (serviceId is not null) builder.Options.ServiceId = serviceId; // grain state and reminders are keyed by it
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(log);
            silo.AddEmbeddedStorage(dataDirectory);
            silo.AddDovecoteGrains(configuration, embeddedDataDirectory: dataDirectory);
            services?.Invoke(silo.Services);
        });
        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Log.DisposeAsync();
        await Task.WhenAll(Telegram.DisposeAsync().AsTask(), Discord.DisposeAsync().AsTask(), Slack.DisposeAsync().AsTask(), Webhooks.DisposeAsync().AsTask());
        Directory.Delete(_dataDirectory, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class DeliveryClusterCollection : ICollectionFixture<DeliveryClusterFixture>
{
    public const string Name = "delivery cluster";
}
