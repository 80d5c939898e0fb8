using Dovecote.Grains.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Dovecote.Api.Hosting;

public static class OrleansHosting
{
    /// <summary>
    /// Embedded by default: the Api co-hosts a single silo. With DOVECOTE_CLUSTERING=azure or redis it is a pure Orleans client
    /// that finds the Silo processes' gateways in the membership store, and holds no state of its own; DOVECOTE_GATEWAYS
    /// ("ip:port,...") names them instead for localhost Silos. Returns the embedded data folder, or null for a client.
    /// </summary>
    public static string? AddDovecoteOrleans(this WebApplicationBuilder builder)
    {
        var gateways = builder.Services.AddDovecoteOptionsNow<GatewayOptions>(builder.Configuration);
        var hosting = builder.Services.AddDovecoteOptionsNow<SiloHostOptions>(builder.Configuration);
        var clustering = builder.Services.AddDovecoteOptionsNow<ClusteringOptions>(builder.Configuration);
        if (clustering.IsLocalhost && gateways.Embedded)
        {
            builder.AddDovecoteSilo();
            return hosting.DataDirectory;
        }

        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(cluster => (cluster.ServiceId, cluster.ClusterId) = (hosting.ServiceId, hosting.ClusterId));
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = ClusterCalls.ResponseTimeout);
            if (clustering.IsLocalhost) client.UseStaticClustering(gateways.Endpoints);
            else client.UseDovecoteClusterStore(clustering);
        });
        builder.AddDovecoteTelemetry();
        return null;
    }
}
