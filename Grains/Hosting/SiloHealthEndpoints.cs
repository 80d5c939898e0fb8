using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dovecote.Grains.Hosting;

/// <summary>The probes a Silo serves on its own ASPNETCORE_URLS (Kubernetes startup, readiness and liveness).</summary>
public static class SiloHealthEndpoints
{
    public const string DefaultUrl = "http://localhost:8081";

    public static IEndpointRouteBuilder MapSiloHealth(this IEndpointRouteBuilder endpoints)
    {
        var health = endpoints.MapGroup("/health");
        health.MapGet("/live", Live);
        health.MapGet("/startup", Startup);
        health.MapGet("/ready", Ready);
        return endpoints;
    }

    /// <summary>The process answers HTTP: never a grain or storage call, so a slow store does not get the pod killed.</summary>
    public static IResult Live() => TypedResults.Ok(new SiloHealth("live"));

    /// <summary>The silo has joined the cluster (the host finishes starting only once it has).</summary>
    public static IResult Startup(IHostApplicationLifetime lifetime) =>
        lifetime.ApplicationStarted.IsCancellationRequested ? TypedResults.Ok(new SiloHealth("started")) : Unavailable("starting");

    /// <summary>This silo is Active in the membership table and not shutting down, so it may take grains and gateway clients.</summary>
    public static IResult Ready(IHostApplicationLifetime lifetime, IServiceProvider services)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested) return Unavailable("stopping");
        var membership = services.GetRequiredService<IClusterMembershipService>();
        var self = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var status = membership.CurrentSnapshot.GetSiloStatus(self);
        return status == SiloStatus.Active ? TypedResults.Ok(new SiloHealth("ready")) : Unavailable(status.ToString().ToLowerInvariant());
    }

    private static IResult Unavailable(string status) => TypedResults.Json(new SiloHealth(status), statusCode: StatusCodes.Status503ServiceUnavailable);

    public sealed record SiloHealth(string Status);
}
