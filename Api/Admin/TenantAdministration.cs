using Dovecote.Api.Audit;
using Dovecote.Api.Hosting;
using Dovecote.Api.RateLimiting;
using Dovecote.Grains.Interfaces.RateLimiting;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Api.Admin;

/// <summary>What a tenant uses against its limits, as the console and the operator view show it.</summary>
public sealed record TenantUsage(TenantInfo Tenant, TenantLimits Limits, int SendsThisMinute, int OAuthClients);

/// <summary>
/// The changes the operator API and the console both make, each audited in the tenant with the caller as actor ("admin",
/// or the signed-in account): one code path, whoever asks. Callers check who may act for the tenant and enter it first;
/// grains refuse bad input with <see cref="ArgumentException"/> and a missing tenant with <see cref="NotFoundException"/>.
/// </summary>
public sealed class TenantAdministration(
    IGrainFactory grains,
    AuditTrail audit,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictApplicationManager applications,
    IOpenIddictTokenManager tokens,
    ILogger<TenantAdministration> logger)
{
    public const string TestMessage = "This is a test message from the Dovecote console. If you can read it, the channel works.";
    public static readonly TimeSpan TestWait = TimeSpan.FromSeconds(20);

    public async Task<ChannelInfo> PutChannelAsync(string tenant, string channel, ChannelConfig config, string actor, HttpContext? http)
    {
        // Listed first: a channel that is listed but not yet configured is skipped, never lost.
        await Tenant(tenant).AddChannelAsync(channel);
        var info = await Channel(tenant, channel).ConfigureAsync(config);
        await audit.RecordAsync(tenant, actor, "channel.put", channel, config.Settings.Type.ToString(), http);
        return info;
    }

    public async Task DeleteChannelAsync(string tenant, string channel, string actor, HttpContext? http)
    {
        await Channel(tenant, channel).DeleteAsync();
        var owner = Tenant(tenant);
        if (await owner.GetAsync() is not null) await owner.RemoveChannelAsync(channel);
        await audit.RecordAsync(tenant, actor, "channel.delete", channel, null, http);
    }

    public async Task<int> RedriveAsync(string tenant, string channel, string? deliveryId, string actor, HttpContext? http)
    {
        var count = await Channel(tenant, channel).RedriveAsync(deliveryId);
        await audit.RecordAsync(tenant, actor, "channel.redrive", channel, $"{count} redriven", http);
        return count;
    }

    /// <summary>
    /// Sends <see cref="TestMessage"/> to the channel and waits up to <see cref="TestWait"/> for the platform's answer: the delivery
    /// as it then stands, or the refusal (suspended tenant, disabled channel, full outbox) as an <see cref="ArgumentException"/>.
    /// Counted against the tenant's sends per minute like any send.
    /// </summary>
    public async Task<DeliveryStatus?> SendTestAsync(string tenant, string channel, string actor, TenantSendLimiter sendLimiter, HttpContext? http)
    {
        if (await sendLimiter.TryAcquireAsync(tenant, 1) is { } limited) throw new ArgumentException(limited);
        await audit.RecordAsync(tenant, actor, "channel.test", channel, null, http);
        var accepted = await ClusterCalls.RetryAsync(() => Channel(tenant, channel).EnqueueAsync(new Notification(TestMessage, "Dovecote test"), null), logger);
        if (!accepted.Accepted)
            throw accepted.Rejection == EnqueueRejection.ChannelNotFound ? new NotFoundException(accepted.Error!) : new ArgumentException(accepted.Error);
        return await ClusterCalls.WaitForDeliveryAsync(Channel(tenant, channel), accepted.DeliveryId!, TestWait);
    }

    public async Task<CreatedApiKey> CreateApiKeyAsync(string tenant, string? name, string actor, HttpContext? http)
    {
        var created = await Tenant(tenant).CreateApiKeyAsync(name);
        await audit.RecordAsync(tenant, actor, "apikey.create", created.Info.KeyId, null, http);
        return created;
    }

    /// <summary>False when the tenant has no such key (another tenant's key is "no such key").</summary>
    public async Task<bool> RevokeApiKeyAsync(string tenant, string keyId, string actor, HttpContext? http)
    {
        if (!await Tenant(tenant).RevokeApiKeyAsync(keyId)) return false;
        await audit.RecordAsync(tenant, actor, "apikey.revoke", keyId, null, http);
        return true;
    }

    /// <summary>The tenant's OAuth grants: who, which client, what scopes, no token values.</summary>
    public async Task<List<GrantView>> ListGrantsAsync(string tenant, CancellationToken cancellationToken)
    {
        var grants = new List<GrantView>();
        await foreach (var authorization in authorizations.FindBySubjectAsync(tenant, cancellationToken))
        {
            var applicationId = await authorizations.GetApplicationIdAsync(authorization, cancellationToken);
            var application = applicationId is null ? null : await applications.FindByIdAsync(applicationId, cancellationToken);
            grants.Add(new GrantView(
                await authorizations.GetIdAsync(authorization, cancellationToken),
                application is null ? applicationId : await applications.GetClientIdAsync(application, cancellationToken),
                application is null ? null : await applications.GetDisplayNameAsync(application, cancellationToken),
                await authorizations.GetScopesAsync(authorization, cancellationToken),
                await authorizations.GetCreationDateAsync(authorization, cancellationToken),
                await authorizations.GetStatusAsync(authorization, cancellationToken)));
        }
        return grants;
    }

    /// <summary>
    /// Revokes one grant and its tokens; null when there is no such grant, or (with <paramref name="tenant"/>) when it belongs
    /// to another tenant. Else whether it was still valid. Audited in the grant's tenant.
    /// </summary>
    public async Task<bool?> RevokeGrantAsync(string? tenant, string grantId, string actor, HttpContext? http, CancellationToken cancellationToken)
    {
        if (await authorizations.FindByIdAsync(grantId, cancellationToken) is not { } authorization) return null;
        var owner = await authorizations.GetSubjectAsync(authorization, cancellationToken);
        if (tenant is not null && owner != tenant) return null;
        var revoked = await authorizations.TryRevokeAsync(authorization, cancellationToken);
        await tokens.RevokeByAuthorizationIdAsync(grantId, cancellationToken);
        await audit.RecordAsync(owner ?? AuditTrail.SystemTenant, actor, "oauth.grant.revoke", grantId, null, http);
        return revoked;
    }

    /// <summary>Suspends the tenant (<paramref name="reason"/>) or lifts it (null); its channels, keys and grants are kept.</summary>
    public async Task<TenantInfo> SetSuspensionAsync(string tenant, string? reason, string actor, HttpContext? http)
    {
        var info = await Tenant(tenant).SetSuspensionAsync(reason);
        await audit.RecordAsync(tenant, actor, reason is null ? "tenant.unsuspend" : "tenant.suspend", tenant, reason, http);
        return info;
    }

    /// <summary>The tenant's counts against its limits; null when it does not exist.</summary>
    public async Task<TenantUsage?> UsageAsync(string tenant, CancellationToken cancellationToken)
    {
        if (await Tenant(tenant).GetAsync() is not { } info) return null;
        var limits = info.Limits ?? await Tenant(tenant).GetLimitsAsync();
        var sends = await grains.GetGrain<IRateLimitGrain>(GrainKeys.RateLimit(TenantSendLimiter.Bucket, tenant))
            .PeekAsync(limits.SendsPerMinute, TenantSendLimiter.Window);
        var clients = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var authorization in authorizations.FindBySubjectAsync(tenant, cancellationToken))
            if (await authorizations.HasStatusAsync(authorization, Statuses.Valid, cancellationToken)
                && await authorizations.GetApplicationIdAsync(authorization, cancellationToken) is { } client)
                clients.Add(client);
        return new TenantUsage(info, limits, Math.Max(0, limits.SendsPerMinute - sends.Remaining), clients.Count);
    }

    private ITenantGrain Tenant(string tenant) => grains.GetGrain<ITenantGrain>(tenant);

    private IChannelGrain Channel(string tenant, string channel) => grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channel));
}
