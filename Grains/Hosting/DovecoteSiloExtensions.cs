using Dovecote.Grains.Audit;
using Dovecote.Grains.Budgets;
using Dovecote.Grains.Channels;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Discord;
using Dovecote.Grains.Channels.Slack;
using Dovecote.Grains.Channels.Telegram;
using Dovecote.Grains.Channels.Webhooks;
using Dovecote.Grains.Security;
using Dovecote.Grains.Storage;
using Dovecote.Grains.Tenants;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Hosting;

namespace Dovecote.Grains.Hosting;

public static class DovecoteSiloExtensions
{
    /// <summary>
    /// The silo: with DOVECOTE_CLUSTERING=localhost (the default) a single node with grain state and reminders in a
    /// group-committed log under DOVECOTE_DATA_DIR and no external server; with azure or redis a member of a real cluster
    /// whose membership, reminders and grain state live in that store.
    /// </summary>
    public static IHostApplicationBuilder AddDovecoteSilo(this IHostApplicationBuilder builder)
    {
        var hosting = builder.Services.AddDovecoteOptionsNow<SiloHostOptions>(builder.Configuration);
        var clustering = builder.Services.AddDovecoteOptionsNow<ClusteringOptions>(builder.Configuration);
        var membership = builder.Services.AddDovecoteOptionsNow<MembershipOptions>(builder.Configuration.GetSection(MembershipOptions.Section));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = hosting.ShutdownTimeout);
        builder.AddDovecoteTelemetry();
        builder.UseOrleans(silo =>
        {
            if (clustering.IsLocalhost)
            {
                silo.UseLocalhostClustering(hosting.SiloPort, hosting.GatewayPort, serviceId: hosting.ServiceId, clusterId: hosting.ClusterId);
                silo.AddEmbeddedStorage(hosting.DataDirectory);
                silo.AddDovecoteGrains(builder.Configuration, embeddedDataDirectory: hosting.DataDirectory);
                return;
            }

            if (string.IsNullOrWhiteSpace(hosting.SecretsKey))
                throw new InvalidOperationException(
                    $"DOVECOTE_SECRETS_KEY must be set when DOVECOTE_CLUSTERING is {clustering.Mode}: every silo decrypts the same channel secrets");
            silo.Configure<ClusterOptions>(cluster => (cluster.ServiceId, cluster.ClusterId) = (hosting.ServiceId, hosting.ClusterId));
            if (hosting.SiloName is { Length: > 0 } name) silo.Configure<SiloOptions>(o => o.SiloName = name);
            if (hosting.AdvertisedAddress is { } advertised)
                silo.ConfigureEndpoints(advertised, hosting.SiloPort, hosting.GatewayPort, listenOnAnyHostAddress: true);
            else
                silo.ConfigureEndpoints(hosting.SiloPort, hosting.GatewayPort, listenOnAnyHostAddress: true);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = membership.ProbeTimeout;
                o.NumMissedProbesLimit = membership.MissedProbesLimit;
                o.DefunctSiloExpiration = membership.DefunctSiloExpiration;
            });
            silo.UseDovecoteClusterStore(clustering);
            // No key file in a cluster: every silo must share DOVECOTE_SECRETS_KEY, so it is required.
            silo.AddDovecoteGrains(builder.Configuration, embeddedDataDirectory: null);
        });
        return builder;
    }

    /// <summary>
    /// The grains and what they need, without clustering or storage, so embedded, cluster and test silos share it.
    /// <paramref name="embeddedDataDirectory"/> is where a secrets key may be created when none is configured.
    /// </summary>
    public static ISiloBuilder AddDovecoteGrains(this ISiloBuilder silo, IConfiguration configuration, string? embeddedDataDirectory)
    {
        var services = silo.Services;
        services.AddDovecoteOptions<SiloHostOptions>(configuration);
        services.AddDovecoteOptions<DeliveryOptions>(configuration.GetSection(DeliveryOptions.Section));
        services.AddDovecoteOptions<ChannelTargetOptions>(configuration);
        services.AddDovecoteOptions<TenantOptions>(configuration.GetSection(TenantOptions.Section));
        services.AddDovecoteOptions<AuditOptions>(configuration.GetSection(AuditOptions.Section));
        services.AddDovecoteOptions<BudgetOptions>(configuration.GetSection(BudgetOptions.Section));
        services.AddDovecoteOptions<ChannelBoardOptions>(configuration.GetSection(ChannelBoardOptions.Section));
        services.AddOutboundAddressGuard(configuration);
        services.AddOptions<ReminderOptions>().Configure<IOptions<DeliveryOptions>>((reminders, delivery) =>
        {
            if (delivery.Value.ReminderPeriod < reminders.MinimumReminderPeriod)
                reminders.MinimumReminderPeriod = delivery.Value.ReminderPeriod;
        });
        services.TryAddSingleton(TimeProvider.System);

        var keyFile = embeddedDataDirectory is null ? null : Path.Combine(embeddedDataDirectory, "secrets.key");
        services.TryAddSingleton(sp =>
            new SecretProtector(SecretProtector.LoadKey(sp.GetRequiredService<IOptions<SiloHostOptions>>().Value.SecretsKey, keyFile)));

        // Bot tokens and webhook tokens live in URLs, so these clients log nothing about requests.
        // The platform client reaches only the operator's Telegram base URL, so it may go through HTTPS_PROXY like any egress.
        services.AddHttpClient(DeliveryHttp.PlatformClient)
            .ConfigurePrimaryHttpMessageHandler(() => WithDeliveryTimeouts(new SocketsHttpHandler { AllowAutoRedirect = false }))
            .RemoveAllLoggers();
        services.AddHttpClient(DeliveryHttp.GuardedClient)
            .ConfigurePrimaryHttpMessageHandler(sp => WithDeliveryTimeouts(GuardedHttp.CreateHandler(sp.GetRequiredService<OutboundAddressGuard>())))
            .RemoveAllLoggers();
        services.AddSingleton<IChannelSender, TelegramSender>();
        services.AddSingleton<IChannelSender, DiscordSender>();
        services.AddSingleton<IChannelSender, SlackSender>();
        services.AddSingleton<IChannelSender, WebhookSender>();
        services.AddSingleton<ChannelSenders>();
        services.TryAddSingleton<DeliveryMetrics>();
        services.TryAddSingleton<BudgetMetrics>();

        silo.UseSystemTextJsonGrainStorageSerializer();
        services.Configure<SystemTextJsonGrainStorageSerializerOptions>(StorageJson.Configure);
        silo.AddIncomingGrainCallFilter<TenantIsolationFilter>();
        return silo;
    }

    private static SocketsHttpHandler WithDeliveryTimeouts(SocketsHttpHandler handler)
    {
        handler.PooledConnectionLifetime = TimeSpan.FromMinutes(2);
        handler.ConnectTimeout = TimeSpan.FromSeconds(10);
        return handler;
    }

    /// <summary>
    /// OpenTelemetry metrics (delivery, Orleans, ASP.NET Core) exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set;
    /// the exporter reads the standard OTEL_* variables itself.
    /// </summary>
    public static IHostApplicationBuilder AddDovecoteTelemetry(this IHostApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddDovecoteOptionsNow<TelemetryOptions>(builder.Configuration);
        if (string.IsNullOrEmpty(telemetry.OtlpEndpoint)) return builder;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(telemetry.ServiceName ?? "dovecote"))
            .WithMetrics(metrics => metrics
                .AddMeter(DeliveryMetrics.MeterName, BudgetMetrics.MeterName, "Microsoft.Orleans", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                .AddOtlpExporter());
        return builder;
    }
}
