using Dovecote.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Dovecote.Tests.Storage;

public sealed class FileGrainStorageTests : IAsyncLifetime
{
    private static readonly GrainId Grain = GrainId.Create("profile", "acme/1");

    private readonly TempLogFolder _folder = new();
    private ServiceProvider? _services;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        await _folder.DisposeAsync();
    }

    [Fact]
    public async Task Reading_a_missing_record_gives_a_fresh_state()
    {
        IGrainStorage storage = CreateStorage(_folder.Open());
        var state = new GrainState<Profile>();

        await storage.ReadStateAsync("profile", Grain, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
    }

    [Fact]
    public async Task Written_state_reads_back_with_its_etag()
    {
        GrainStateLog log = _folder.Open();
        IGrainStorage storage = CreateStorage(log);
        var state = new GrainState<Profile> { State = new Profile { Name = "Ada", Visits = 3 } };

        await storage.WriteStateAsync("profile", Grain, state);
        var read = new GrainState<Profile>();
        await storage.ReadStateAsync("profile", Grain, read);

        Assert.True(state.RecordExists);
        Assert.NotNull(state.ETag);
        Assert.True(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);
        Assert.NotNull(read.State);
        Assert.Equal("Ada", read.State.Name);
        Assert.Equal(3, read.State.Visits);
        Assert.True(log.TryGet($"state/svc/profile/{Grain}", out _));
    }

    [Fact]
    public async Task Etag_conflicts_become_inconsistent_state_exceptions()
    {
        IGrainStorage storage = CreateStorage(_folder.Open());
        var winner = new GrainState<Profile> { State = new Profile { Name = "first" } };
        await storage.WriteStateAsync("profile", Grain, winner);
        string? staleETag = winner.ETag;
        await storage.WriteStateAsync("profile", Grain, winner);

        var stale = new GrainState<Profile> { State = new Profile(), ETag = staleETag, RecordExists = true };
        var staleWrite = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("profile", Grain, stale));
        Assert.Equal(winner.ETag, staleWrite.StoredEtag);
        Assert.Equal(staleETag, staleWrite.CurrentEtag);

        var blind = new GrainState<Profile> { State = new Profile() };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("profile", Grain, blind));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("profile", Grain, stale));
    }

    [Fact]
    public async Task Clear_deletes_the_record_and_resets_the_state()
    {
        IGrainStorage storage = CreateStorage(_folder.Open());
        var state = new GrainState<Profile> { State = new Profile { Name = "gone" } };
        await storage.WriteStateAsync("profile", Grain, state);

        await storage.ClearStateAsync("profile", Grain, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Equal(string.Empty, state.State.Name);
        var read = new GrainState<Profile>();
        await storage.ReadStateAsync("profile", Grain, read);
        Assert.False(read.RecordExists);
        // Writing again after a clear starts from "must not exist".
        await storage.WriteStateAsync("profile", Grain, state);
    }

    private FileGrainStorage CreateStorage(GrainStateLog log)
    {
        _services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        return new FileGrainStorage(
            "Default",
            log,
            new SystemTextJsonStorageSerializer(),
            _services.GetRequiredService<IActivatorProvider>(),
            Options.Create(new ClusterOptions { ServiceId = "svc" }));
    }

    public sealed class Profile
    {
        public string Name { get; set; } = string.Empty;

        public int Visits { get; set; }
    }

    private sealed class SystemTextJsonStorageSerializer : IGrainStorageSerializer
    {
        public BinaryData Serialize<T>(T? input) => BinaryData.FromObjectAsJson(input);

        public T Deserialize<T>(BinaryData input) => input.ToObjectFromJson<T>()!;
    }
}
