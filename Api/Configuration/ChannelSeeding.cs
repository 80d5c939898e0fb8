using Dovecote.Grains.Hosting;
using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Api.Configuration;

/// <summary>
/// TELEGRAM_INSTANCES, DISCORD_INSTANCES, SLACK_INSTANCES, WEBHOOK_INSTANCES and OAUTH_PASSWORD seed tenant "default" at
/// start-up. Validated when the host is built (a bad value stops start-up naming the variable); applied after the silo
/// starts, and idempotently: a restart with changed values updates the channels.
/// </summary>
public sealed class ChannelSeeding(IOptions<ChannelSeedingOptions> options, IGrainFactory grains, ILogger<ChannelSeeding> logger) : IHostedService
{
    public const string Tenant = "default";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var channels = options.Value.Channels();
        var password = options.Value.DefaultPassword;
        if (channels.Count == 0 && password is null) return;
        using var scope = TenantContext.Enter(Tenant);
        var tenant = grains.GetGrain<ITenantGrain>(Tenant);
        var existing = await tenant.GetAsync();
        await tenant.UpsertAsync(existing?.DisplayName ?? "Default", password);
        foreach (var (channelId, config) in channels)
        {
            await tenant.AddChannelAsync(channelId);
            await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(Tenant, channelId)).ConfigureAsync(config);
        }
        logger.LogInformation("Seeded {Count} channels of tenant {Tenant} from the environment", channels.Count, Tenant);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class ChannelSeedingExtensions
{
    /// <summary>Validates the seed variables now, so a bad one stops start-up before anything listens.</summary>
    public static WebApplicationBuilder AddChannelSeeding(this WebApplicationBuilder builder)
    {
        builder.Services.AddDovecoteOptionsNow<ChannelSeedingOptions>(builder.Configuration);
        builder.Services.AddHostedService<ChannelSeeding>();
        return builder;
    }
}
