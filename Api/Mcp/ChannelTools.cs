using System.ComponentModel;
using System.Text.Json.Serialization;
using Dovecote.Api.Audit;
using Dovecote.Api.Security;
using Dovecote.Grains.Interfaces.Tenants;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Dovecote.Api.Mcp;

/// <summary>What an agent may read about its tenant: the channels (never their secrets) and, with a high-privilege scope, env profiles.</summary>
[McpServerToolType]
public sealed class ChannelTools(IGrainFactory grains, AuditTrail audit, IHttpContextAccessor http)
{
    [McpServerTool(Name = "list_channels", Title = "List channels", ReadOnly = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ChannelListResult))]
    [Description("Lists the channels you can send to with send_notification: id, type (telegram, discord, slack, webhook), name, " +
        "whether it is enabled, its health and how many messages are pending.")]
    public async Task<CallToolResult> ListChannelsAsync(ClaimsPrincipal user)
    {
        var tenant = DovecoteClaims.RequireScope(user, DovecoteClaims.NotifyScope);
        using var scope = TenantContext.Enter(tenant);
        var owner = grains.GetGrain<ITenantGrain>(tenant);
        var ids = await owner.GetAsync() is null ? [] : await owner.GetChannelIdsAsync();
        var infos = await Task.WhenAll(ids.Select(id => grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, id)).GetInfoAsync()));
        var channels = infos.OfType<ChannelInfo>()
            .Select(c => new ChannelSummary(
                c.ChannelId,
                c.Type.ToString().ToLowerInvariant(),
                c.Name,
                c.Enabled,
                c.HealthText,
                c.Pending))
            .ToList();
        return ToolResults.Create(new ChannelListResult(channels), channels.Count == 0
            ? "No channels are configured for you yet."
            : string.Join('\n', channels.Select(c => $"{c.Id}: {c.Type} '{c.Name}', {(c.Enabled ? "enabled" : "disabled")}, {c.Health}, {c.Pending} pending")));
    }

    [McpServerTool(Name = "get_env", Title = "Read an env profile", ReadOnly = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(EnvProfileResult))]
    [Description("Returns the named environment profile (key/value settings) stored for your tenant. " +
        "Needs the dovecote:env:read scope; every read is audited.")]
    public async Task<CallToolResult> GetEnvAsync(
        ClaimsPrincipal user,
        [Description("The profile name, e.g. 'production'.")] string profile)
    {
        var tenant = DovecoteClaims.RequireScope(user, DovecoteClaims.EnvReadScope);
        if (!EnvProfileNames.IsValid(profile)) throw new McpException(EnvProfileNames.Rule);
        using var scope = TenantContext.Enter(tenant);
        var owner = grains.GetGrain<ITenantGrain>(tenant);
        var values = await owner.GetAsync() is null ? null : await owner.GetEnvProfileAsync(profile);
        await audit.RecordAsync(tenant, DovecoteClaims.ActorOf(user), "env.read", profile, values is null ? "not found" : null, http.HttpContext);
        return values is null
            ? throw new McpException($"no env profile '{profile}'")
            : ToolResults.Create(
                new EnvProfileResult(profile, values),
                $"Env profile '{profile}':\n" + string.Join('\n', values.Select(v => $"{v.Key}={v.Value}")));
    }
}

public sealed record ChannelListResult([property: JsonPropertyName("channels")] IReadOnlyList<ChannelSummary> Channels);

public sealed record ChannelSummary(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("health")] string Health,
    [property: JsonPropertyName("pending")] int Pending);

public sealed record EnvProfileResult(
    [property: JsonPropertyName("profile")] string Profile,
    [property: JsonPropertyName("values")] IReadOnlyDictionary<string, string> Values);
