using System.Text;
using Dovecote.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Dovecote.Tests.Storage;

public sealed class EmbeddedStorageSiloTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-embedded-").FullName;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_dataDirectory, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Grain_state_is_persisted_through_deactivation_and_host_shutdown()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddEmbeddedStorage(_dataDirectory));
        await using (InProcessTestCluster cluster = builder.Build())
        {
            await cluster.DeployAsync(TestContext.Current.CancellationToken);
            IServiceProvider services = cluster.GetSiloServiceProvider();
            Assert.IsType<LogReminderTable>(services.GetRequiredService<IReminderTable>());

            var grain = cluster.Client.GetGrain<IStorageProbeGrain>("probe-1");
            await grain.SetAsync("hello");
            await cluster.DeactivateAsync(grain);

            Assert.Equal("hello", await grain.GetAsync());
        }

        // The container disposed the log with the host, releasing the folder, and the write is on disk.
        await using var log = new GrainStateLog(
            new GrainStateLogOptions { Directory = Path.Combine(_dataDirectory, "grains") },
            new ListLogger<GrainStateLog>());
        var (key, value) = Assert.Single(log.Scan("state/"));
        Assert.EndsWith("/s/storageprobe/probe-1", key);
        Assert.Contains("hello", Encoding.UTF8.GetString(value.Data.Span));
    }
}

[Alias("Dovecote.Tests.Storage.IStorageProbeGrain")]
public interface IStorageProbeGrain : IGrainWithStringKey
{
    [Alias("Set")]
    Task SetAsync(string value);

    [Alias("Get")]
    Task<string?> GetAsync();
}

[GenerateSerializer]
public sealed class StorageProbeState
{
    [Id(0)]
    public string? Value { get; set; }
}

public sealed class StorageProbeGrain([PersistentState("s")] IPersistentState<StorageProbeState> state) : Grain, IStorageProbeGrain
{
    public Task SetAsync(string value)
    {
        state.State.Value = value;
        return state.WriteStateAsync();
    }

    public Task<string?> GetAsync() => Task.FromResult(state.State.Value);
}
