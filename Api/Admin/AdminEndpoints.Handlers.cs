using Dovecote.Api.Audit;
using Dovecote.Api.Security;
using Dovecote.Grains.Interfaces.Audit;
using Dovecote.Grains.Interfaces.Tenants;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dovecote.Api.Admin;

/// <summary>A page of tenants in id order; <see cref="Next"/> is the <c>after</c> of the next page, null on the last.</summary>
public sealed record TenantPage(IReadOnlyList<TenantInfo> Tenants, string? Next);

/// <summary>A minted API key: <see cref="Key"/> is shown this once.</summary>
public sealed record CreatedApiKeyResponse(string Id, string Key, string Prefix, string? Name);

public sealed record RedriveResponse(int Redriven);

/// <summary>
/// PUT /admin/tenants/{tenant}. <see cref="Limits"/> absent keeps the tenant's limits; present, it replaces them, and each
/// member it omits follows the configured default (Tenants__*), so <c>"limits": {}</c> returns to the defaults.
/// </summary>
public sealed record TenantProfileRequest(string? DisplayName, string? Password, TenantLimitOverrides? Limits);

/// <summary>What the handlers that change things need, bound as one parameter.</summary>
public sealed record AdminServices(IGrainFactory Grains, AuditTrail Audit, TenantAdministration Administration, HttpContext Http)
{
    /// <summary>Who the audit names for a change through /admin.</summary>
    public const string Actor = "admin";

    public ITenantGrain Tenant(string tenant) => Grains.GetGrain<ITenantGrain>(tenant);

    /// <summary>Records an operator change in the tenant it touches.</summary>
    public Task AuditAsync(string tenant, string action, string target, string? detail = null) =>
        Audit.RecordAsync(tenant, Actor, action, target, detail, Http);
}

// The handlers. The tenant group's filter has checked {tenant} and {channel} and entered the tenant; the admin gate
// turns a grain's ArgumentException into 400 and its NotFoundException into 404, so handlers do not check either.
public static partial class AdminEndpoints
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1_000;
    public const int DefaultAuditPageSize = 1_000;
    public const int MaxAuditPageSize = 5_000;

    public static async Task<Results<Ok<TenantPage>, BadRequest<AdminError>>> ListTenants(IGrainFactory grains, string? after, int limit = DefaultPageSize)
    {
        if (limit is < 1 or > MaxPageSize) return AdminError.BadRequest($"limit must be 1 to {MaxPageSize}");
        if (after is not null && !GrainKeys.IsValidTenant(after)) return AdminError.BadRequest("after must be a tenant id: the next of the previous page");

        return TypedResults.Ok(await PageTenantsAsync(grains, after, limit));
    }

    /// <summary>A page of tenants after <paramref name="after"/> (valid, or null), for /admin/tenants and the operator view.</summary>
    public static async Task<TenantPage> PageTenantsAsync(IGrainFactory grains, string? after, int limit)
    {
        // One more than the page from every shard: more than a page together means there is a next one.
        var shards = await Task.WhenAll(GrainKeys.AllTenantDirectoryShards()
            .Select(shard => grains.GetGrain<ITenantDirectoryGrain>(shard).ListAsync(after, limit + 1)));
        var ids = shards.SelectMany(shard => shard).Order(StringComparer.Ordinal).Take(limit + 1).ToList();
        var next = ids.Count > limit ? ids[limit - 1] : null;
        var tenants = await Task.WhenAll(ids.Take(limit).Select(id => GetTenantInfoAsync(grains, id)));
        return new TenantPage(tenants.OfType<TenantInfo>().ToList(), next); // a listed tenant never written is skipped
    }

    public static async Task<Results<Ok<TenantInfo>, BadRequest<AdminError>>> PutTenant(
        string tenant, TenantProfileRequest body, [AsParameters] AdminServices services)
    {
        if (string.IsNullOrWhiteSpace(body.DisplayName)) return AdminError.BadRequest("displayName is required");
        var info = await services.Tenant(tenant).UpsertAsync(body.DisplayName, body.Password, body.Limits);
        var changes = new[] { body.Password is null ? null : "password set", body.Limits is null ? null : $"limits {info.Limits}" };
        var detail = string.Join("; ", changes.OfType<string>());
        await services.AuditAsync(tenant, "tenant.put", tenant, detail.Length == 0 ? null : detail);
        return TypedResults.Ok(info);
    }

    public static async Task<Results<Ok<TenantInfo>, NotFound<AdminError>>> GetTenant(string tenant, IGrainFactory grains) =>
        await grains.GetGrain<ITenantGrain>(tenant).GetAsync() is { } info ? TypedResults.Ok(info) : AdminError.NotFound($"tenant '{tenant}' does not exist");

    /// <summary>Every configured channel of the tenant, as <see cref="ChannelInfo"/>: settings masked, never a secret.</summary>
    public static async Task<Ok<List<ChannelInfo>>> ListChannels(string tenant, IGrainFactory grains)
    {
        var ids = await grains.GetGrain<ITenantGrain>(tenant).GetChannelIdsAsync();
        var channels = await Task.WhenAll(ids.Select(id => grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, id)).GetInfoAsync()));
        return TypedResults.Ok(channels.OfType<ChannelInfo>().ToList()); // a listed channel not yet configured is skipped
    }

    public static async Task<Results<Ok<ChannelInfo>, BadRequest<AdminError>>> PutChannel(
        string tenant,
        string channel,
        ChannelRequest body,
        [AsParameters] AdminServices services)
    {
        var (settings, error) = ChannelSettingsParser.Parse(body.Type, body.Settings);
        if (settings is null) return AdminError.BadRequest(error!);

        var name = string.IsNullOrWhiteSpace(body.Name) ? channel : body.Name;
        var info = await services.Administration.PutChannelAsync(
            tenant, channel, new ChannelConfig(name, body.Enabled ?? true, settings, body.RateLimit), AdminServices.Actor, services.Http);
        return TypedResults.Ok(info);
    }

    public static async Task<Results<Ok<ChannelInfo>, NotFound<AdminError>>> GetChannel(string tenant, string channel, IGrainFactory grains) =>
        await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channel)).GetInfoAsync() is { } info
            ? TypedResults.Ok(info)
            : AdminError.NotFound($"channel '{channel}' does not exist");

    public static async Task<NoContent> DeleteChannel(string tenant, string channel, [AsParameters] AdminServices services)
    {
        await services.Administration.DeleteChannelAsync(tenant, channel, AdminServices.Actor, services.Http);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<IReadOnlyList<DeliveryStatus>>> GetDeadLetters(string tenant, string channel, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channel)).GetDeadLettersAsync());

    public static async Task<Ok<RedriveResponse>> Redrive(string tenant, string channel, RedriveRequest? body, [AsParameters] AdminServices services)
    {
        var count = await services.Administration.RedriveAsync(tenant, channel, body?.DeliveryId, AdminServices.Actor, services.Http);
        return TypedResults.Ok(new RedriveResponse(count));
    }

    public static async Task<Created<CreatedApiKeyResponse>> CreateApiKey(string tenant, ApiKeyRequest? body, [AsParameters] AdminServices services)
    {
        var created = await services.Administration.CreateApiKeyAsync(tenant, body?.Name, AdminServices.Actor, services.Http);
        // The key is shown this once; only its hash is kept.
        return TypedResults.Created((string?)null, new CreatedApiKeyResponse(created.Info.KeyId, created.Key, created.Info.Prefix, created.Info.Name));
    }

    /// <summary>Suspends the tenant: its sends are refused with the reason; its channels, keys and grants are kept.</summary>
    public static async Task<Results<Ok<TenantInfo>, BadRequest<AdminError>>> Suspend(string tenant, SuspendRequest? body, [AsParameters] AdminServices services)
    {
        if (string.IsNullOrWhiteSpace(body?.Reason)) return AdminError.BadRequest("reason is required: it is what the tenant's senders are told");
        return TypedResults.Ok(await services.Administration.SetSuspensionAsync(tenant, body.Reason, AdminServices.Actor, services.Http));
    }

    public static async Task<Ok<TenantInfo>> Unsuspend(string tenant, [AsParameters] AdminServices services) =>
        TypedResults.Ok(await services.Administration.SetSuspensionAsync(tenant, null, AdminServices.Actor, services.Http));

    public static async Task<Ok<IReadOnlyList<ApiKeyInfo>>> ListApiKeys(string tenant, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ITenantGrain>(tenant).ListApiKeysAsync());

    public static async Task<Results<NoContent, NotFound<AdminError>>> RevokeApiKey(string tenant, string keyId, [AsParameters] AdminServices services)
    {
        if (!await services.Administration.RevokeApiKeyAsync(tenant, keyId, AdminServices.Actor, services.Http))
            return AdminError.NotFound($"no API key '{keyId}' in tenant '{tenant}'");
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, BadRequest<AdminError>>> PutEnvProfile(
        string tenant,
        string profile,
        EnvProfileRequest body,
        [AsParameters] AdminServices services)
    {
        if (body.Values is null) return AdminError.BadRequest("values is required: an object of strings");
        await services.Tenant(tenant).SetEnvProfileAsync(profile, body.Values);
        await services.AuditAsync(tenant, "env.put", profile, $"{body.Values.Count} values");
        return TypedResults.NoContent();
    }

    public static Task<Results<Ok<IReadOnlyList<AuditEvent>>, BadRequest<AdminError>>> ReadTenantAudit(
        string tenant, string? day, string? after, int? limit, AuditTrail audit, TimeProvider time, HttpContext http) =>
        ReadAuditAsync(tenant, day, after, limit, audit, time, http);

    public static Task<Results<Ok<IReadOnlyList<AuditEvent>>, BadRequest<AdminError>>> ReadSystemAudit(
        string? day, string? after, int? limit, AuditTrail audit, TimeProvider time, HttpContext http) =>
        ReadAuditAsync(AuditTrail.SystemTenant, day, after, limit, audit, time, http);

    /// <summary>A page of the day as a JSON array; when there is more, a <c>Link: &lt;...&amp;after=...&gt;; rel="next"</c> header points at it.</summary>
    private static async Task<Results<Ok<IReadOnlyList<AuditEvent>>, BadRequest<AdminError>>> ReadAuditAsync(
        string tenant, string? day, string? after, int? limit, AuditTrail audit, TimeProvider time, HttpContext http)
    {
        var date = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (day is not null && !DateOnly.TryParseExact(day, "yyyy-MM-dd", out date)) return AdminError.BadRequest("day must be yyyy-MM-dd");
        if (limit is < 1 or > MaxAuditPageSize) return AdminError.BadRequest($"limit must be 1 to {MaxAuditPageSize}");
        var page = await audit.ReadAsync(tenant, date, after, limit ?? DefaultAuditPageSize);
        if (page.Next is { } next)
        {
            KeyValuePair<string, string?>[] query =
                [new("day", date.ToString("yyyy-MM-dd")), new("after", next), new("limit", $"{limit ?? DefaultAuditPageSize}")];
            http.Response.Headers.Link = $"<{http.Request.PathBase}{http.Request.Path}{QueryString.Create(query)}>; rel=\"next\"";
        }
        return TypedResults.Ok(page.Events);
    }

    /// <summary>Outside the tenant group, so each read enters its own tenant: a tenant grain takes calls for itself only.</summary>
    private static async Task<TenantInfo?> GetTenantInfoAsync(IGrainFactory grains, string tenant)
    {
        using var scope = TenantContext.Enter(tenant);
        return await grains.GetGrain<ITenantGrain>(tenant).GetAsync();
    }
}
