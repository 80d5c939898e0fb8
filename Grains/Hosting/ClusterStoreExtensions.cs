using Azure.Data.Tables;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;

namespace Dovecote.Grains.Hosting;

/// <summary>Membership, reminders and grain state on the store DOVECOTE_CLUSTERING names, through the official Orleans providers.</summary>
public static class ClusterStoreExtensions
{
    /// <summary>A silo of a real cluster: clustering, default grain storage and reminders on Azure Table storage or Redis.</summary>
    public static ISiloBuilder UseDovecoteClusterStore(this ISiloBuilder silo, ClusteringOptions clustering)
    {
        switch (clustering.Mode)
        {
            case ClusteringOptions.Azure:
                var tables = new TableServiceClient(clustering.AzureStorageConnection);
                silo.UseAzureStorageClustering(o => o.TableServiceClient = tables);
                // A cleared state is deleted, not kept as an empty row: a channel clears one record per delivered message.
                silo.AddAzureTableGrainStorageAsDefault(o =>
                {
                    o.TableServiceClient = tables;
                    o.DeleteStateOnClear = true;
                });
                silo.UseAzureTableReminderService(o => o.TableServiceClient = tables);
                break;
            case ClusteringOptions.Redis:
                var redis = RedisOptions(clustering);
                silo.UseRedisClustering(o => o.ConfigurationOptions = redis);
                silo.AddRedisGrainStorageAsDefault(o =>
                {
                    o.ConfigurationOptions = redis;
                    o.DeleteStateOnClear = true;
                });
                silo.UseRedisReminderService(o => o.ConfigurationOptions = redis);
                break;
            default:
                throw new InvalidOperationException($"DOVECOTE_CLUSTERING '{clustering.Mode}' has no cluster store");
        }
        return silo;
    }

    /// <summary>A client (the Api in cluster mode) finds the gateways in the same membership store the silos write.</summary>
    public static IClientBuilder UseDovecoteClusterStore(this IClientBuilder client, ClusteringOptions clustering)
    {
        switch (clustering.Mode)
        {
            case ClusteringOptions.Azure:
                client.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(clustering.AzureStorageConnection));
                break;
            case ClusteringOptions.Redis:
                client.UseRedisClustering(o => o.ConfigurationOptions = RedisOptions(clustering));
                break;
            default:
                throw new InvalidOperationException($"DOVECOTE_CLUSTERING '{clustering.Mode}' has no cluster store");
        }
        // A replacement silo becomes a gateway for this client within seconds, not the default minute.
        return client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(10));
    }

    /// <summary>Keeps retrying a Redis that is briefly away instead of failing the host at start-up.</summary>
    private static ConfigurationOptions RedisOptions(ClusteringOptions clustering)
    {
        var options = ConfigurationOptions.Parse(clustering.RedisConnection!);
        options.AbortOnConnectFail = false;
        return options;
    }
}
