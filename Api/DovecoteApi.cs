using Dovecote.Api.Accounts;
using Dovecote.Api.Admin;
using Dovecote.Api.Audit;
using Dovecote.Api.Configuration;
using Dovecote.Api.Hosting;
using Dovecote.Api.Mcp;
using Dovecote.Api.OAuth;
using Dovecote.Api.RateLimiting;
using Dovecote.Api.Security;
using Dovecote.Api.TenantConsole;
using Dovecote.Grains.Hosting;

namespace Dovecote.Api;

/// <summary>The whole front end on one screen: Orleans (embedded silo or cluster client), OAuth, accounts, MCP, admin, health.</summary>
public static class DovecoteApi
{
    public const string DefaultUrl = "http://localhost:8080";

    /// <summary>Builds the Api with every production endpoint mapped; the caller runs or starts it.</summary>
    /// <param name="configure">Runs after the production endpoints are mapped: tests add their own endpoints here.</param>
    public static WebApplication Create(string[] args, Action<WebApplication>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            builder.WebHost.UseUrls(DefaultUrl);

        // Bodies are small JSON; /mcp narrows this further.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 1024 * 1024);
        var embeddedDataDirectory = builder.AddDovecoteOrleans();
        builder.AddChannelSeeding();
        builder.AddDovecoteOAuth(embeddedDataDirectory);

        builder.Services.AddDovecoteOptions<ApiKeyOptions>(builder.Configuration);
        builder.Services.AddDovecoteOptions<OriginOptions>(builder.Configuration);
        builder.Services.AddDovecoteOptions<AdminOptions>(builder.Configuration);
        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddScoped<TenantAdministration>();
        builder.Services.AddSingleton<ClusterRateLimiter>();
        builder.Services.AddSingleton<FailedAuthenticationGate>();
        builder.Services.AddHttpContextAccessor();
        // Endpoints name the schemes they accept (/mcp: OAuth tokens or API keys); /admin checks its own token.
        var authentication = builder.Services.AddAuthentication().AddMcpBearer();
        builder.AddDovecoteAccounts(authentication);
        builder.Services.AddAuthorization(options => options.AddPolicy(McpEndpointExtensions.CallerPolicy, policy => policy
            .AddAuthenticationSchemes(McpBearer.SchemeName)
            .RequireAuthenticatedUser()));
        builder.AddDovecoteMcp();

        var app = builder.Build();
        app.UseMalformedRequestAnswers();
        app.UseClusterUnavailableAnswers();
        app.UseForwardedHeaders();
        app.UseAuthorizeErrorPage();
        app.UseOriginAndHostChecks();
        app.UseDovecoteAuthentication();
        app.UseAuthorization();
        app.MapGet("/health", () => Results.Json(new { status = "ok", service = "dovecote" }));
        app.MapGet("/health/ready", ReadinessAsync);
        app.MapDovecoteMcp();
        app.MapDovecoteOAuth();
        app.MapDovecoteAccounts();
        app.MapDovecoteAdmin();
        app.MapGrantAdmin();
        app.MapDovecoteConsole();
        configure?.Invoke(app);
        return app;
    }

    /// <summary>Ready when a grain call round-trips: the silo (or the cluster, for a client) answers.</summary>
    private static async Task<IResult> ReadinessAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        try
        {
            using var scope = TenantContext.Enter("readiness");
            await grains.GetGrain<IChannelGrain>(GrainKeys.Channel("readiness", "probe")).GetInfoAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return Results.Json(new { status = "ready" });
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Results.Json(new { status = "unavailable", error = e.GetType().Name }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
