using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dovecote.Api.RateLimiting;
using Dovecote.Api.Security;
using Dovecote.Grains.Interfaces.Tenants;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Admin;

public sealed record ChannelRequest(string? Type, string? Name, bool? Enabled, JsonElement Settings, RateLimitPolicy? RateLimit);
public sealed record ApiKeyRequest(string? Name);
public sealed record EnvProfileRequest(Dictionary<string, string>? Values);
public sealed record RedriveRequest(string? DeliveryId);
public sealed record SuspendRequest(string? Reason);

/// <summary>The outcome of checking an operator token.</summary>
public abstract record AdminTokenCheck
{
    public sealed record Passed : AdminTokenCheck;
    /// <summary>ADMIN_TOKEN is not set: there is no operator.</summary>
    public sealed record Disabled : AdminTokenCheck;
    public sealed record Wrong : AdminTokenCheck;
    /// <summary>The address is out of failures; <see cref="Decision"/> says for how long.</summary>
    public sealed record Limited(Grains.Interfaces.RateLimiting.RateLimitDecision Decision) : AdminTokenCheck;
}

/// <summary>
/// The operator API. Every route needs the admin bearer token, is rate-limited per client across the cluster,
/// and every change is audited in the tenant it touches. The handlers are in AdminEndpoints.Handlers.cs.
/// </summary>
public static partial class AdminEndpoints
{
    public static WebApplication MapDovecoteAdmin(this WebApplication app)
    {
        var admin = app.MapAdminGroup();
        admin.MapGet("/tenants", ListTenants);
        // Events that belong to no tenant: client registrations, consent refused before sign-in.
        admin.MapGet("/audit", ReadSystemAudit);

        var tenant = app.MapTenantGroup();
        tenant.MapPut("", PutTenant);
        tenant.MapGet("", GetTenant);
        tenant.MapPut("/suspension", Suspend);
        tenant.MapDelete("/suspension", Unsuspend);
        tenant.MapGet("/channels", ListChannels);
        tenant.MapPut("/channels/{channel}", PutChannel);
        tenant.MapGet("/channels/{channel}", GetChannel);
        tenant.MapDelete("/channels/{channel}", DeleteChannel);
        tenant.MapGet("/channels/{channel}/dead-letters", GetDeadLetters);
        tenant.MapPost("/channels/{channel}/redrive", Redrive);
        tenant.MapPost("/api-keys", CreateApiKey);
        tenant.MapGet("/api-keys", ListApiKeys);
        tenant.MapDelete("/api-keys/{keyId}", RevokeApiKey);
        tenant.MapPut("/env/{profile}", PutEnvProfile);
        tenant.MapGet("/audit", ReadTenantAudit);
        return app;
    }

    /// <summary>Routes under /admin, each behind <see cref="RequireAdminAsync"/>.</summary>
    public static RouteGroupBuilder MapAdminGroup(this WebApplication app) => app.MapGroup("/admin").AddEndpointFilter(RequireAdminAsync);

    /// <summary>Routes under /admin/tenants/{tenant}: behind the admin gate, then <see cref="EnterTenantAsync"/>.</summary>
    public static RouteGroupBuilder MapTenantGroup(this WebApplication app) =>
        app.MapAdminGroup().MapGroup("/tenants/{tenant}").AddEndpointFilter(EnterTenantAsync);

    /// <summary>
    /// Bearer ADMIN_TOKEN, compared in constant time once the address has failures left. The one place where what grains throw becomes an answer:
    /// <see cref="ArgumentException"/> is bad input (400), <see cref="NotFoundException"/> a missing tenant (404).
    /// </summary>
    private static async ValueTask<object?> RequireAdminAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var limiter = http.RequestServices.GetRequiredService<ClusterRateLimiter>();
        var traffic = await limiter.HitAsync("admin-ip", ClusterRateLimiter.ClientKey(http), ClusterRateLimiter.Admin);
        if (!traffic.Allowed) return ClusterRateLimiter.TooMany(traffic);

        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        switch (await CheckAdminTokenAsync(http, presented))
        {
            case AdminTokenCheck.Disabled:
                return AdminError.Status(StatusCodes.Status403Forbidden, "admin_disabled", "Set ADMIN_TOKEN to use the admin API.");
            case AdminTokenCheck.Limited limited:
                return ClusterRateLimiter.TooMany(limited.Decision);
            case AdminTokenCheck.Wrong:
                http.Response.Headers.WWWAuthenticate = "Bearer realm=\"dovecote-admin\"";
                return AdminError.Status(StatusCodes.Status401Unauthorized, "unauthorized", "A valid admin bearer token is required.");
        }

        try
        {
            return await next(context);
        }
        catch (ArgumentException e)
        {
            return AdminError.BadRequest(e.Message); // grains validate input and say what is wrong, never echoing secrets
        }
        catch (NotFoundException e)
        {
            return AdminError.NotFound(e.Message);
        }
    }

    /// <summary>
    /// Checks <paramref name="presented"/> against ADMIN_TOKEN in constant time once the address has failures left; a wrong
    /// token spends one. For /admin and the console's operator sign-in alike, so both share one failure budget.
    /// </summary>
    public static async Task<AdminTokenCheck> CheckAdminTokenAsync(HttpContext http, string presented)
    {
        var expected = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.EffectiveToken;
        if (string.IsNullOrEmpty(expected)) return new AdminTokenCheck.Disabled();
        var limiter = http.RequestServices.GetRequiredService<ClusterRateLimiter>();
        var client = ClusterRateLimiter.ClientKey(http);
        // Checked before the token, so once an address is out of failures even the right token is refused: a guess past the limit tells nothing.
        var budget = await limiter.PeekAsync("admin-token-fail", client, ClusterRateLimiter.FailedAdminToken);
        if (!budget.Allowed) return new AdminTokenCheck.Limited(budget);
        if (CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
            return new AdminTokenCheck.Passed();
        var failures = await limiter.HitAsync("admin-token-fail", client, ClusterRateLimiter.FailedAdminToken);
        return failures.Allowed ? new AdminTokenCheck.Wrong() : new AdminTokenCheck.Limited(failures);
    }

    /// <summary>A well-formed {tenant}, and {channel} where the route has one; the handler then acts for that tenant.</summary>
    private static async ValueTask<object?> EnterTenantAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var route = context.HttpContext.Request.RouteValues;
        if (route["tenant"] is not string tenant || !GrainKeys.IsValidTenant(tenant))
            return AdminError.BadRequest("the tenant id must be lowercase letters, digits or '-', at most 63 characters");
        if (route.TryGetValue("channel", out var channel) && !GrainKeys.IsValidChannelId(channel as string))
            return AdminError.BadRequest("the channel id must be letters, digits, '.', '_' or '-', at most 64 characters");

        // The tenant lives in Orleans' RequestContext, an AsyncLocal: it flows into the handler awaited here and into
        // every grain call the handler makes, and is restored when the scope ends.
        using var scope = TenantContext.Enter(tenant);
        return await next(context);
    }
}
