using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Dovecote.Grains.Storage;

/// <summary>
/// Orleans grain storage on the embedded <see cref="GrainStateLog"/>. The log's compare-and-set on ETags gives
/// the optimistic concurrency Orleans expects; a conflict surfaces as <see cref="InconsistentStateException"/>,
/// which makes the runtime deactivate the stale activation so the next call reloads state.
/// </summary>
internal sealed class FileGrainStorage(
    string storageName,
    GrainStateLog log,
    IGrainStorageSerializer serializer,
    IActivatorProvider activatorProvider,
    IOptions<ClusterOptions> clusterOptions) : IGrainStorage
{
    private readonly string _serviceId = clusterOptions.Value.ServiceId;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (log.TryGet(Key(stateName, grainId), out StoredValue stored))
        {
            grainState.State = serializer.Deserialize<T>(new BinaryData(stored.Data));
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            ResetToEmpty(grainState);
        }

        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = serializer.Serialize(grainState.State).ToMemory();
        try
        {
            // The serialized state is ours alone and immutable: the log may keep its array rather than a copy.
            grainState.ETag = await (MemoryMarshal.TryGetArray(data, out var whole) && whole is { Offset: 0, Array: { } array } && whole.Count == array.Length
                ? log.WriteOwnedAsync(Key(stateName, grainId), grainState.ETag, array)
                : log.WriteAsync(Key(stateName, grainId), grainState.ETag, data));
            grainState.RecordExists = true;
        }
        catch (ETagMismatchException ex)
        {
            throw Inconsistent(ex, grainState.ETag);
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            await log.DeleteAsync(Key(stateName, grainId), grainState.ETag);
        }
        catch (ETagMismatchException ex)
        {
            throw Inconsistent(ex, grainState.ETag);
        }

        ResetToEmpty(grainState);
    }

    private string Key(string stateName, GrainId grainId) => $"state/{_serviceId}/{stateName}/{grainId}";

    private void ResetToEmpty<T>(IGrainState<T> grainState)
    {
        grainState.State = activatorProvider.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private InconsistentStateException Inconsistent(ETagMismatchException ex, string? currentETag) =>
        new($"Grain storage '{storageName}': {ex.Message}", ex.ActualETag, currentETag);
}
