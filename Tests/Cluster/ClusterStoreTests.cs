using Dovecote.Grains.Hosting;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Providers;
using Orleans.Storage;

namespace Dovecote.Tests.Cluster;

/// <summary>
/// The official providers behind DOVECOTE_CLUSTERING, against a real store the test starts: membership, grain state and
/// its ETags, and reminders that bring a channel back on another silo with no call. One subclass per store.
/// </summary>
public abstract class ClusterStoreTests : IAsyncLifetime
{
    private readonly FakeWebhookReceiver _webhooks = new();
    private IAsyncDisposable? _store;
    private ClusterHosts? _cluster;

    protected abstract string Mode { get; }

    /// <summary>Starts the store; returns it (to stop at the end) and its connection string.</summary>
    protected abstract Task<(IAsyncDisposable Store, string Connection)> StartStoreAsync();

    private ClusterHosts Cluster => _cluster!;

    public async ValueTask InitializeAsync()
    {
        await _webhooks.StartAsync();
        var (store, connection) = await StartStoreAsync();
        _store = store;
        _cluster = new ClusterHosts(Mode, connection);
    }

    [Fact]
    public async Task Two_silos_join_and_a_client_finds_their_gateways_in_the_store()
    {
        await Cluster.StartSiloAsync("silo-a");
        await Cluster.StartSiloAsync("silo-b");
        var client = await Cluster.StartClientAsync();

        var hosts = await client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true, TestContext.Current.CancellationToken);
        Assert.Equal(["silo-a", "silo-b"], hosts.Select(h => h.SiloName).Order());
        Assert.All(hosts, h => Assert.Equal(SiloStatus.Active, h.Status));
    }

    [Fact]
    public async Task State_written_by_one_silo_is_read_by_the_other_once_the_first_is_gone()
    {
        var first = await Cluster.StartSiloAsync("silo-a");
        var second = await Cluster.StartSiloAsync("silo-b");
        var client = await Cluster.StartClientAsync();
        var (url, secret) = _webhooks.CreateEndpoint();
        using var tenant = TenantContext.Enter("acme");
        var channel = client.Channel("acme", "ops");
        await channel.ConfigureAsync(new ChannelConfig("Operations", true, new WebhookSettings(url, secret)));

        var holder = await client.GetGrain<IManagementGrain>(0).GetActivationAddress(channel, TestContext.Current.CancellationToken);
        await Cluster.StopAsync(holder == Silo(first) ? first : second);

        var info = await channel.GetInfoAsync();
        Assert.NotNull(info);
        Assert.Equal("Operations", info.Name);
        Assert.NotEqual(holder, await client.GetGrain<IManagementGrain>(0).GetActivationAddress(channel, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task The_store_refuses_a_stale_etag_and_a_second_insert_and_deletes_on_clear()
    {
        var silo = await Cluster.StartSiloAsync("silo-a");
        var storage = silo.Services.GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);
        var id = GrainId.Create("storetest", Guid.NewGuid().ToString("N"));
        var large = new string('x', 300_000); // over four 64 KiB table properties

        var written = new GrainState<StoreProbe>(new StoreProbe { Text = large });
        await storage.WriteStateAsync("probe", id, written);
        var read = new GrainState<StoreProbe>();
        await storage.ReadStateAsync("probe", id, read);
        Assert.True(read.RecordExists);
        Assert.Equal(large, read.State?.Text);
        Assert.Equal(written.ETag, read.ETag);

        // A second writer that believes the record does not exist yet (ETag null) must not overwrite it.
        await Assert.ThrowsAnyAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync("probe", id, new GrainState<StoreProbe>(new StoreProbe { Text = "second insert" })));
        var stale = new GrainState<StoreProbe>(new StoreProbe { Text = "first" }) { ETag = read.ETag, RecordExists = true };
        await storage.WriteStateAsync("probe", id, read);
        await Assert.ThrowsAnyAsync<InconsistentStateException>(() => storage.WriteStateAsync("probe", id, stale));

        await storage.ClearStateAsync("probe", id, read);
        var cleared = new GrainState<StoreProbe>();
        await storage.ReadStateAsync("probe", id, cleared);
        Assert.False(cleared.RecordExists);
        Assert.Null(cleared.ETag);
        // Deleted, not an empty row: inserting again with no ETag works.
        await storage.WriteStateAsync("probe", id, new GrainState<StoreProbe>(new StoreProbe { Text = "again" }));
    }

    [Fact]
    public async Task A_channel_with_pending_messages_resumes_on_another_silo_by_its_reminder_alone()
    {
        var first = await Cluster.StartSiloAsync("silo-a");
        var second = await Cluster.StartSiloAsync("silo-b");
        var client = await Cluster.StartClientAsync();
        var (url, secret) = _webhooks.CreateEndpoint();
        _webhooks.Down = true;
        using (TenantContext.Enter("acme"))
        {
            var channel = client.Channel("acme", "pending");
            await channel.ConfigureAsync(new ChannelConfig("Pending", true, new WebhookSettings(url, secret)));
            for (var i = 0; i < 3; i++) await channel.EnqueueOkAsync($"pending {i}");
            await _webhooks.WaitUntilAsync(() => _webhooks.Requests.Count > 0, because: "the channel tried to deliver");
            var holder = await client.GetGrain<IManagementGrain>(0).GetActivationAddress(channel, TestContext.Current.CancellationToken);
            await Cluster.StopAsync(holder == Silo(first) ? first : second);
        }

        // No call reaches the channel from here on: only its reminder, on the surviving silo, can bring it back.
        _webhooks.Down = false;
        await _webhooks.WaitUntilAsync(() => _webhooks.Deliveries.Select(d => d.WebhookId).Distinct().Count() == 3, TimeSpan.FromSeconds(60),
            "the three pending messages delivered by the surviving silo");
        var bodies = _webhooks.Deliveries.Select(d => System.Text.Json.JsonDocument.Parse(d.Body).RootElement.GetProperty("data")
            .GetProperty("message").GetString()).Distinct();
        Assert.Equal(["pending 0", "pending 1", "pending 2"], bodies);
    }

    private static SiloAddress Silo(IHost host) => host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        if (_store is not null) await _store.DisposeAsync();
        await _webhooks.DisposeAsync();
    }

    public sealed class StoreProbe
    {
        public string Text { get; set; } = "";
    }
}

public sealed class AzureClusterStoreTests : ClusterStoreTests
{
    protected override string Mode => ClusteringOptions.Azure;

    protected override async Task<(IAsyncDisposable Store, string Connection)> StartStoreAsync()
    {
        var azurite = await AzuriteServer.StartAsync();
        return (azurite, azurite.ConnectionString);
    }
}

public sealed class RedisClusterStoreTests : ClusterStoreTests
{
    protected override string Mode => ClusteringOptions.Redis;

    protected override async Task<(IAsyncDisposable Store, string Connection)> StartStoreAsync()
    {
        var redis = await RedisServer.StartAsync();
        return (redis, redis.ConnectionString);
    }
}
