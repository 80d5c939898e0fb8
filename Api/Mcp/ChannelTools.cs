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
    public const int DefaultPageSize = 100;

    [McpServerTool(Name = "list_channels", Title = "List channels", ReadOnly = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ChannelListResult))]
    [Description("Lists the channels you can send to with send_notification: id, type (telegram, discord, slack, webhook), name, " +
        "whether it is enabled, its health and how many messages are pending (which may lag by up to a second). " +
        "Channels come in pages in id order; when next_cursor is not null, call again with it as cursor for the next page.")]
    public async Task<CallToolResult> ListChannelsAsync(
        ClaimsPrincipal user,
        [Description("The next_cursor of the previous page; leave it out for the first page.")] string? cursor = null,
        [Description("Channels per page, 1 to 500 (default 100).")] int? limit = null)
    {
        var tenant = DovecoteClaims.RequireScope(user, DovecoteClaims.NotifyScope);
        var pageSize = limit ?? DefaultPageSize;
        if (pageSize is < 1 or > IChannelBoardGrain.MaxPageSize) throw new McpException($"limit must be 1 to {IChannelBoardGrain.MaxPageSize}");
        var after = cursor is null ? null : ChannelListCursor.Decode(tenant, cursor) ?? throw new McpException(ChannelListCursor.Problem);
        using var scope = TenantContext.Enter(tenant);
        // One grain call whatever the channel count: the tenant's board holds every channel's summary.
        var page = await grains.GetGrain<IChannelBoardGrain>(tenant).GetPageAsync(after, pageSize);
        var channels = page.Channels
            .Select(c => new ChannelSummary(c.ChannelId, c.Type.ToString().ToLowerInvariant(), c.Name, c.Enabled, c.Health, c.Pending))
            .ToList();
        var nextCursor = page.NextAfter is null ? null : ChannelListCursor.Encode(tenant, page.NextAfter);
        var lines = channels.Select(c => $"{c.Id}: {c.Type} '{c.Name}', {(c.Enabled ? "enabled" : "disabled")}, {c.Health}, {c.Pending} pending");
        var text = channels.Count == 0
            ? after is null ? "No channels are configured for you yet." : "No more channels."
            : string.Join('\n', nextCursor is null ? lines : lines.Append($"More channels follow: call list_channels with cursor \"{nextCursor}\"."));
        return ToolResults.Create(new ChannelListResult(channels, nextCursor), text);
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

public sealed record ChannelListResult(
    [property: JsonPropertyName("channels")] IReadOnlyList<ChannelSummary> Channels,
    /// <summary>The cursor of the next page; null on the last one.</summary>
    [property: JsonPropertyName("next_cursor")] string? NextCursor);

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
