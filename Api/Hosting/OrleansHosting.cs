using System.Net;
using Dovecote.Grains.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Dovecote.Api.Hosting;

public static class OrleansHosting
{
    /// <summary>
    /// Embedded by default: the Api co-hosts a single silo. With DOVECOTE_GATEWAYS ("ip:port,ip:port") it is a
    /// pure Orleans client of separate Silo processes and holds no state of its own. Returns whether it is embedded.
    /// </summary>
    public static bool AddDovecoteOrleans(this WebApplicationBuilder builder)
    {
        var gateways = builder.Configuration["DOVECOTE_GATEWAYS"];
        if (string.IsNullOrWhiteSpace(gateways))
        {
            builder.AddDovecoteSilo();
            return true;
        }

        var endpoints = gateways.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(g => IPEndPoint.TryParse(g, out var endpoint) && endpoint.Port > 0
                ? endpoint
                : throw new InvalidOperationException($"DOVECOTE_GATEWAYS: '{g}' is not an ip:port gateway address"))
            .ToArray();
        var hosting = SiloHostOptions.From(builder.Configuration);
        builder.UseOrleansClient(client => client
            .UseStaticClustering(endpoints)
            .Configure<ClusterOptions>(cluster =>
            {
                cluster.ServiceId = hosting.ServiceId;
                cluster.ClusterId = hosting.ClusterId;
            }));
        builder.AddDovecoteTelemetry();
        return false;
    }
}
