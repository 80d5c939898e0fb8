using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dovecote.Api.Security;
using Dovecote.Grains.Interfaces.Tenants;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Admin;

public sealed record TenantRequest(string? DisplayName, string? Password);
public sealed record ChannelRequest(string? Type, string? Name, bool? Enabled, JsonElement Settings, RateLimitPolicy? RateLimit);
public sealed record ApiKeyRequest(string? Name);
public sealed record EnvProfileRequest(Dictionary<string, string>? Values);
public sealed record RedriveRequest(string? DeliveryId);

/// <summary>
/// The operator API. Every route needs the admin bearer token, is rate-limited per client across the cluster,
/// and every change is audited in the tenant it touches.
/// </summary>
public static class AdminEndpoints
{
    private const string Actor = "admin";

    public static WebApplication MapDovecoteAdmin(this WebApplication app)
    {
        var admin = app.MapAdminGroup();

        admin.MapPut("/tenants/{tenant}", async (string tenant, TenantRequest body, IGrainFactory grains, AuditTrail audit, HttpContext http) =>
        {
            if (string.IsNullOrWhiteSpace(body.DisplayName)) return BadRequest("displayName is required");
            using var scope = TenantContext.Enter(tenant);
            var info = await grains.GetGrain<ITenantGrain>(tenant).UpsertAsync(body.DisplayName, body.Password);
            await audit.RecordAsync(tenant, Actor, "tenant.put", tenant, body.Password is null ? null : "password set", http);
            return Results.Ok(info);
        });

        admin.MapGet("/tenants/{tenant}", async (string tenant, IGrainFactory grains) =>
        {
            using var scope = TenantContext.Enter(tenant);
            return await grains.GetGrain<ITenantGrain>(tenant).GetAsync() is { } info ? Results.Ok(info) : NotFound($"tenant '{tenant}' does not exist");
        });

        admin.MapPut("/tenants/{tenant}/channels/{channel}", async (string tenant, string channel, ChannelRequest body, IGrainFactory grains, AuditTrail audit, HttpContext http) =>
        {
            if (!GrainKeys.IsValidChannelId(channel)) return BadRequest("the channel id must be letters, digits, '.', '_' or '-', at most 64 characters");
            if (string.IsNullOrWhiteSpace(body.Name)) return BadRequest("name is required");
            var (settings, error) = ChannelSettingsParser.Parse(body.Type, body.Settings);
            if (settings is null) return BadRequest(error!);

            using var scope = TenantContext.Enter(tenant);
            var owner = grains.GetGrain<ITenantGrain>(tenant);
            if (await owner.GetAsync() is null) return NotFound($"tenant '{tenant}' does not exist");
            // Listed first: a channel that is listed but not yet configured is skipped, never lost.
            await owner.AddChannelAsync(channel);
            var info = await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channel))
                .ConfigureAsync(new ChannelConfig(body.Name, body.Enabled ?? true, settings, body.RateLimit));
            await audit.RecordAsync(tenant, Actor, "channel.put", channel, settings.Type.ToString(), http);
            return Results.Ok(info);
        });

        admin.MapGet("/tenants/{tenant}/channels/{channel}", async (string tenant, string channel, IGrainFactory grains) =>
        {
            if (!GrainKeys.IsValidChannelId(channel)) return BadRequest("invalid channel id");
            using var scope = TenantContext.Enter(tenant);
            return await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channel)).GetInfoAsync() is { } info
                ? Results.Ok(info)
                : NotFound($"channel '{channel}' does not exist");
        });

        admin.MapDelete("/tenants/{tenant}/channels/{channel}", async (string tenant, string channel, IGrainFactory grains, AuditTrail audit, HttpContext http) =>
        {
            if (!GrainKeys.IsValidChannelId(channel)) return BadRequest("invalid channel id");
            using var scope = TenantContext.Enter(tenant);
            await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channel)).DeleteAsync();
            if (await grains.GetGrain<ITenantGrain>(tenant).GetAsync() is not null)
                await grains.GetGrain<ITenantGrain>(tenant).RemoveChannelAsync(channel);
            await audit.RecordAsync(tenant, Actor, "channel.delete", channel, null, http);
            return Results.NoContent();
        });

        admin.MapGet("/tenants/{tenant}/channels/{channel}/dead-letters", async (string tenant, string channel, IGrainFactory grains) =>
        {
            if (!GrainKeys.IsValidChannelId(channel)) return BadRequest("invalid channel id");
            using var scope = TenantContext.Enter(tenant);
            return Results.Ok(await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channel)).GetDeadLettersAsync());
        });

        admin.MapPost("/tenants/{tenant}/channels/{channel}/redrive", async (string tenant, string channel, RedriveRequest? body, IGrainFactory grains, AuditTrail audit, HttpContext http) =>
        {
            if (!GrainKeys.IsValidChannelId(channel)) return BadRequest("invalid channel id");
            using var scope = TenantContext.Enter(tenant);
            var count = await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channel)).RedriveAsync(body?.DeliveryId);
            await audit.RecordAsync(tenant, Actor, "channel.redrive", channel, $"{count} redriven", http);
            return Results.Ok(new { redriven = count });
        });

        admin.MapPost("/tenants/{tenant}/api-keys", async (string tenant, ApiKeyRequest? body, IGrainFactory grains, AuditTrail audit, HttpContext http) =>
        {
            using var scope = TenantContext.Enter(tenant);
            var owner = grains.GetGrain<ITenantGrain>(tenant);
            if (await owner.GetAsync() is null) return NotFound($"tenant '{tenant}' does not exist");
            var created = await owner.CreateApiKeyAsync(body?.Name);
            await audit.RecordAsync(tenant, Actor, "apikey.create", created.Info.KeyId, null, http);
            // The key is shown this once; only its hash is kept.
            return Results.Json(new { id = created.Info.KeyId, key = created.Key, prefix = created.Info.Prefix, name = created.Info.Name }, statusCode: StatusCodes.Status201Created);
        });

        admin.MapGet("/tenants/{tenant}/api-keys", async (string tenant, IGrainFactory grains) =>
        {
            using var scope = TenantContext.Enter(tenant);
            var owner = grains.GetGrain<ITenantGrain>(tenant);
            return await owner.GetAsync() is null ? NotFound($"tenant '{tenant}' does not exist") : Results.Ok(await owner.ListApiKeysAsync());
        });

        admin.MapDelete("/tenants/{tenant}/api-keys/{keyId}", async (string tenant, string keyId, IGrainFactory grains, AuditTrail audit, HttpContext http) =>
        {
            using var scope = TenantContext.Enter(tenant);
            var owner = grains.GetGrain<ITenantGrain>(tenant);
            if (await owner.GetAsync() is null || !await owner.RevokeApiKeyAsync(keyId)) return NotFound($"no API key '{keyId}' in tenant '{tenant}'");
            await audit.RecordAsync(tenant, Actor, "apikey.revoke", keyId, null, http);
            return Results.NoContent();
        });

        admin.MapPut("/tenants/{tenant}/env/{profile}", async (string tenant, string profile, EnvProfileRequest body, IGrainFactory grains, AuditTrail audit, HttpContext http) =>
        {
            if (body.Values is null) return BadRequest("values is required: an object of strings");
            using var scope = TenantContext.Enter(tenant);
            var owner = grains.GetGrain<ITenantGrain>(tenant);
            if (await owner.GetAsync() is null) return NotFound($"tenant '{tenant}' does not exist");
            await owner.SetEnvProfileAsync(profile, body.Values);
            await audit.RecordAsync(tenant, Actor, "env.put", profile, $"{body.Values.Count} values", http);
            return Results.NoContent();
        });

        admin.MapGet("/tenants/{tenant}/audit", async (string tenant, string? day, AuditTrail audit, TimeProvider time) =>
        {
            var date = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            if (day is not null && !DateOnly.TryParseExact(day, "yyyy-MM-dd", out date)) return BadRequest("day must be yyyy-MM-dd");
            return Results.Ok(await audit.ReadAsync(tenant, date));
        });

        // Events that belong to no tenant: client registrations, consent refused before sign-in.
        admin.MapGet("/audit", async (string? day, AuditTrail audit, TimeProvider time) =>
        {
            var date = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            if (day is not null && !DateOnly.TryParseExact(day, "yyyy-MM-dd", out date)) return BadRequest("day must be yyyy-MM-dd");
            return Results.Ok(await audit.ReadAsync(AuditTrail.SystemTenant, date));
        });

        return app;
    }

    /// <summary>Routes under /admin, each behind <see cref="RequireAdminAsync"/>.</summary>
    public static RouteGroupBuilder MapAdminGroup(this WebApplication app) => app.MapGroup("/admin").AddEndpointFilter(RequireAdminAsync);

    /// <summary>Bearer ADMIN_TOKEN, compared in constant time; a tenant id in the route must be well-formed.</summary>
    private static async ValueTask<object?> RequireAdminAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var limiter = http.RequestServices.GetRequiredService<ClusterRateLimiter>();
        var client = ClusterRateLimiter.ClientKey(http);
        var traffic = await limiter.HitAsync("admin-ip", client, ClusterRateLimiter.Admin);
        if (!traffic.Allowed) return ClusterRateLimiter.TooMany(traffic);

        var expected = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.EffectiveToken;
        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        if (string.IsNullOrEmpty(expected))
            return Results.Json(new { error = "admin_disabled", error_description = "Set ADMIN_TOKEN to use the admin API." }, statusCode: StatusCodes.Status403Forbidden);
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
        {
            var failures = await limiter.HitAsync("admin-token-fail", client, ClusterRateLimiter.FailedAdminToken);
            if (!failures.Allowed) return ClusterRateLimiter.TooMany(failures);
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"dovecote-admin\"";
            return Results.Json(new { error = "unauthorized", error_description = "A valid admin bearer token is required." }, statusCode: StatusCodes.Status401Unauthorized);
        }

        if (http.Request.RouteValues.TryGetValue("tenant", out var tenant) && !GrainKeys.IsValidTenant(tenant as string))
            return BadRequest("the tenant id must be lowercase letters, digits or '-', at most 63 characters");
        try
        {
            return await next(context);
        }
        catch (ArgumentException e)
        {
            return BadRequest(e.Message); // grains validate input and say what is wrong, never echoing secrets
        }
        catch (InvalidOperationException e) when (e.Message.Contains("does not exist", StringComparison.Ordinal))
        {
            return NotFound(e.Message);
        }
    }

    internal static IResult BadRequest(string reason) => Results.Json(new { error = "invalid_request", error_description = reason }, statusCode: StatusCodes.Status400BadRequest);

    internal static IResult NotFound(string reason) => Results.Json(new { error = "not_found", error_description = reason }, statusCode: StatusCodes.Status404NotFound);
}
