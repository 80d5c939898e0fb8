using System.Text.Json;
using Dovecote.Api.Admin;
using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Api.Configuration;

/// <summary>
/// TELEGRAM_INSTANCES, DISCORD_INSTANCES, SLACK_INSTANCES and WEBHOOK_INSTANCES seed tenant "default" at start-up.
/// Parsed when the host is built (a bad value stops start-up naming the variable); applied after the silo starts,
/// and idempotently: a restart with changed values updates the channels.
/// </summary>
public sealed class ChannelSeeding(IReadOnlyList<(string ChannelId, ChannelConfig Config)> channels, string? defaultPassword, IGrainFactory grains, ILogger<ChannelSeeding> logger)
    : IHostedService
{
    public const string Tenant = "default";

    private static readonly (string Variable, string Type)[] Sources =
        [("TELEGRAM_INSTANCES", "telegram"), ("DISCORD_INSTANCES", "discord"), ("SLACK_INSTANCES", "slack"), ("WEBHOOK_INSTANCES", "webhook")];

    public static IReadOnlyList<(string ChannelId, ChannelConfig Config)> Parse(IConfiguration configuration)
    {
        var seeded = new List<(string, ChannelConfig)>();
        foreach (var (variable, type) in Sources)
        {
            if (configuration[variable] is not { Length: > 0 } json) continue;
            JsonElement instances;
            try { instances = JsonDocument.Parse(json).RootElement; }
            catch (JsonException) { throw new InvalidOperationException($"{variable} is not valid JSON: expected an array of objects"); }
            if (instances.ValueKind != JsonValueKind.Array) throw new InvalidOperationException($"{variable} must be a JSON array");

            var index = 0;
            foreach (var instance in instances.EnumerateArray())
            {
                var where = $"{variable}[{index++}]";
                var id = instance.ValueKind == JsonValueKind.Object && instance.TryGetProperty("id", out var idValue) ? idValue.ToString() : null;
                var channelId = $"{type}-{id}";
                if (string.IsNullOrEmpty(id) || !GrainKeys.IsValidChannelId(channelId))
                    throw new InvalidOperationException($"{where}.id is required: letters, digits, '.', '_' or '-' (the channel id is '{type}-{id}', at most 64 characters)");
                var (settings, error) = ChannelSettingsParser.Parse(type, instance);
                if (settings is null) throw new InvalidOperationException($"{where}: {error}");
                seeded.Add((channelId, new ChannelConfig(id, Enabled: true, settings)));
            }
        }
        return seeded.GroupBy(c => c.Item1).Select(g => g.Count() == 1 ? g.First() : throw new InvalidOperationException($"channel '{g.Key}' is configured twice")).ToList();
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (channels.Count == 0 && defaultPassword is null) return;
        using var scope = TenantContext.Enter(Tenant);
        var tenant = grains.GetGrain<ITenantGrain>(Tenant);
        var existing = await tenant.GetAsync();
        await tenant.UpsertAsync(existing?.DisplayName ?? "Default", defaultPassword);
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
    /// <summary>Parses the *_INSTANCES variables now, so a bad one stops start-up before anything listens.</summary>
    public static WebApplicationBuilder AddChannelSeeding(this WebApplicationBuilder builder)
    {
        var channels = ChannelSeeding.Parse(builder.Configuration);
        var password = builder.Configuration["OAUTH_PASSWORD"] is { Length: > 0 } p ? p : null;
        if (password is { Length: < 8 }) throw new InvalidOperationException("OAUTH_PASSWORD must be at least 8 characters");
        builder.Services.AddHostedService(sp => new ChannelSeeding(channels, password, sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<ILogger<ChannelSeeding>>()));
        return builder;
    }
}
