using Dovecote.Grains.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Dovecote.Api.Hosting;

public static class OrleansHosting
{
    /// <summary>
    /// Embedded by default: the Api co-hosts a single silo. With DOVECOTE_GATEWAYS ("ip:port,ip:port") it is a pure Orleans
    /// client of separate Silo processes and holds no state of its own. Returns the embedded data folder, or null for a client.
    /// </summary>
    public static string? AddDovecoteOrleans(this WebApplicationBuilder builder)
    {
        var gateways = builder.Services.AddDovecoteOptionsNow<GatewayOptions>(builder.Configuration);
        var hosting = builder.Services.AddDovecoteOptionsNow<SiloHostOptions>(builder.Configuration);
        if (gateways.Embedded)
        {
            builder.AddDovecoteSilo();
            return hosting.DataDirectory;
        }

        builder.UseOrleansClient(client => client
            .UseStaticClustering(gateways.Endpoints)
            .Configure<ClusterOptions>(cluster =>
            {
                cluster.ServiceId = hosting.ServiceId;
                cluster.ClusterId = hosting.ClusterId;
            }));
        builder.AddDovecoteTelemetry();
        return null;
    }
}
