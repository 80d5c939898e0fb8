using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Dovecote.Grains.Storage;

public static class EmbeddedStorageExtensions
{
    /// <summary>
    /// Makes the default grain storage and the reminder table durable files under
    /// <c>{dataDirectory}/grains</c>, for single-process (embedded) deployments.
    /// </summary>
    public static ISiloBuilder AddEmbeddedStorage(this ISiloBuilder silo, string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        IServiceCollection services = silo.Services;

        // TryAdd lets a test share one pre-registered log between in-process silos. A log created here by the
        // factory is owned by the container, which disposes it (draining pending writes) when the host stops.
        services.TryAddSingleton(sp => new GrainStateLog(
            new GrainStateLogOptions { Directory = Path.Combine(dataDirectory, "grains") },
            sp.GetRequiredService<ILogger<GrainStateLog>>()));

        services.AddGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, name) => new FileGrainStorage(
            name,
            sp.GetRequiredService<GrainStateLog>(),
            sp.GetRequiredService<IGrainStorageSerializer>(),
            sp.GetRequiredService<IActivatorProvider>(),
            sp.GetRequiredService<IOptions<ClusterOptions>>()));

        // Open at start-up: the folder lock and the replay happen before the silo takes calls, not at the first write.
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new OpenAtStartup(sp));

        silo.AddReminders();
        // Replace rather than add, so calling this twice (or after another reminder provider) leaves one table.
        services.RemoveAll<IReminderTable>();
        services.AddSingleton<IReminderTable, LogReminderTable>();
        return silo;
    }

    private sealed class OpenAtStartup(IServiceProvider services) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(OpenAtStartup), ServiceLifecycleStage.RuntimeInitialize, _ =>
            {
                services.GetRequiredService<GrainStateLog>();
                return Task.CompletedTask;
            });
    }
}
