using Dovecote.Grains.Storage;
using Dovecote.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.TestingHost;

namespace Dovecote.Tests.Channels;

/// <summary>
/// A delivery cluster of its own for the hostile-destination tests: its fakes answer garbage on purpose, and
/// MaxPause is two seconds so a clamped absurd retry_after is seen to end within a test.
/// </summary>
public sealed class HostileDestinationsFixture : IAsyncLifetime
{
    public static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(2);

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-hostile-").FullName;

    public FakeTelegramServer Telegram { get; } = new();
    public FakeDiscordServer Discord { get; } = new();
    public FakeSlackServer Slack { get; } = new();
    public FakeWebhookReceiver Webhooks { get; } = new();
    public GrainStateLog Log { get; private set; } = null!;
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    public async ValueTask InitializeAsync()
    {
        await Task.WhenAll(Telegram.StartAsync(), Discord.StartAsync(), Slack.StartAsync(), Webhooks.StartAsync());
        Log = new GrainStateLog(new GrainStateLogOptions { Directory = Path.Combine(_dataDirectory, "grains") }, NullLogger<GrainStateLog>.Instance);
        var settings = DeliveryClusterFixture.DeliverySettings(Telegram.BaseUrl);
        settings["Delivery:MaxPause"] = MaxPause.ToString();
        Cluster = DeliveryClusterFixture.BuildCluster(Log, _dataDirectory, settings);
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Log.DisposeAsync();
        await Task.WhenAll(Telegram.DisposeAsync().AsTask(), Discord.DisposeAsync().AsTask(), Slack.DisposeAsync().AsTask(), Webhooks.DisposeAsync().AsTask());
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
