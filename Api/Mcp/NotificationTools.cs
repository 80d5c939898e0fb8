using System.ComponentModel;
using System.Text.Json.Serialization;
using Dovecote.Api.Audit;
using Dovecote.Api.Hosting;
using Dovecote.Api.RateLimiting;
using Dovecote.Api.Security;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Dovecote.Api.Mcp;

/// <summary>
/// The tools an agent uses to reach a person. Argument names are snake_case because they are the public
/// contract (DESIGN.md); the tenant always comes from the credential, never from an argument.
/// </summary>
[McpServerToolType]
public sealed class NotificationTools(
    IGrainFactory grains, AuditTrail audit, TenantSendLimiter sendLimiter, IHttpContextAccessor http, ILogger<NotificationTools> logger)
{
    public const int MaxChannelsPerCall = 20;
    public const int MaxWaitSeconds = 30;
    /// <summary>How much of a caller's delivery_id an error quotes: enough to recognise, never an echo of a 256 KiB argument.</summary>
    public const int MaxQuotedId = 100;

    [McpServerTool(Name = "send_notification", Title = "Send a notification", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = true,
        UseStructuredContent = true, OutputSchemaType = typeof(SendNotificationResult))]
    [Description("Sends a message to a person through one or more of your configured channels (Telegram, Discord, Slack, webhooks). " +
        "The message is accepted durably and delivered with retries; the result says, per channel, " +
        "whether it was delivered, is still queued or retrying, or failed. " +
        "Use list_channels to find channel ids.")]
    public async Task<CallToolResult> SendNotificationAsync(
        ClaimsPrincipal user,
        [Description("The message, in Markdown unless format is 'plain' (at most 32000 characters). " +
            "Long messages are split into several platform messages.")] string message,
        [Description("The channel id to deliver to. Give this or 'channels'.")] string? channel = null,
        [Description("Several channel ids to deliver the same message to (at most 20).")] string[]? channels = null,
        [Description("A short title shown in bold above the message (at most 256 characters).")] string? title = null,
        [Description("A link to add below the message (http or https, at most 2048 characters).")] string? url = null,
        [Description("'low' delivers silently where the platform allows, 'normal' (default) or 'high'.")] string? priority = null,
        [Description("'markdown' (default) or 'plain' to show the text exactly as written.")] string? format = null,
        [Description("A key of your choice (1 to 200 characters): " +
            "a retry with the same key within 24 hours returns the first delivery instead of sending again.")] string? idempotency_key = null,
        [Description("Seconds (0-30, default 10) to wait for the platform's answer before returning; " +
            "the message is delivered either way.")] int? wait_seconds = null,
        CancellationToken cancellationToken = default)
    {
        var tenant = DovecoteClaims.RequireScope(user, DovecoteClaims.NotifyScope);
        var targets = Targets(channel, channels);
        var notification = new Notification(
            message,
            title,
            url,
            priority?.ToLowerInvariant() switch
            {
                null or "normal" => NotificationPriority.Normal,
                "low" => NotificationPriority.Low,
                "high" => NotificationPriority.High,
                _ => throw new McpException("priority must be 'low', 'normal' or 'high'"),
            },
            format?.ToLowerInvariant() switch
            {
                null or "markdown" => MessageFormat.Markdown,
                "plain" => MessageFormat.Plain,
                _ => throw new McpException("format must be 'markdown' or 'plain'"),
            });
        if ((notification.Validate() ?? Notification.ValidateIdempotencyKey(idempotency_key)) is { } problem) throw new McpException(problem);
        var wait = TimeSpan.FromSeconds(wait_seconds ?? 10);
        if (wait_seconds is < 0 or > MaxWaitSeconds) throw new McpException($"wait_seconds must be between 0 and {MaxWaitSeconds}");

        using var scope = TenantContext.Enter(tenant);
        // Validated, then counted, then audited: a refused call leaves no audit event and enqueues nothing.
        if (await sendLimiter.TryAcquireAsync(tenant, targets.Count) is { } limited) throw new McpException(limited);
        await audit.RecordAsync(
            tenant,
            DovecoteClaims.ActorOf(user),
            "notification.send",
            string.Join(",", targets),
            idempotency_key is null ? null : "idempotent",
            http.HttpContext);
        var accepted = await Task.WhenAll(targets.Select(async id => (Id: id, Result: await ClusterCalls.RetryAsync(
            () => Channel(tenant, id).EnqueueAsync(notification, idempotency_key), logger, cancellationToken))));
        if (accepted.All(a => !a.Result.Accepted))
            throw new McpException(string.Join("; ", accepted.Select(a => a.Result.Error)));

        // With no wait, a new message is queued: only a duplicate's status is worth a call.
        var results = await Task.WhenAll(accepted.Select(async a => a.Result.Accepted
            ? Describe(a.Id, wait == TimeSpan.Zero && !a.Result.Duplicate ? null : await WaitForDeliveryAsync(tenant, a.Id, a.Result.DeliveryId!, wait), a.Result)
            : new DeliveryResult(a.Id, null, "failed", null, a.Result.Error, false)));
        return ToolResults.Create(new SendNotificationResult(results), string.Join('\n', results.Select(r =>
            $"{r.Channel}: {r.Status}" + (r.MessageId is null ? "" : $" (message {r.MessageId})") + (r.Error is null ? "" : $", {r.Error}")
            + (r.DeliveryId is null ? "" : $" [delivery_id {r.DeliveryId}]") + (r.Duplicate ? " (already sent with this idempotency_key)" : ""))));
    }

    [McpServerTool(Name = "get_delivery_status", Title = "Get delivery status", ReadOnly = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(DeliveryStatusResult))]
    [Description("Tells where a message sent with send_notification stands: queued, retrying, " +
        "delivered (with the platform's message ids) or failed (with the last error).")]
    public async Task<CallToolResult> GetDeliveryStatusAsync(
        ClaimsPrincipal user,
        [Description("The delivery_id returned by send_notification.")] string? delivery_id)
    {
        var tenant = DovecoteClaims.RequireScope(user, DovecoteClaims.NotifyScope);
        if (string.IsNullOrEmpty(delivery_id)) throw new McpException("delivery_id is required: the one send_notification returned");
        var separator = delivery_id.LastIndexOf(':');
        var channelId = separator > 0 ? delivery_id[..separator] : "";
        if (!GrainKeys.IsValidChannelId(channelId)) throw new McpException("delivery_id is not one Dovecote issued");

        using var scope = TenantContext.Enter(tenant);
        var status = await Channel(tenant, channelId).GetDeliveryAsync(delivery_id)
            ?? throw new McpException($"no delivery '{Quote(delivery_id)}' is known (unknown, or older than the channel's history)");
        var result = new DeliveryStatusResult(status.DeliveryId, status.ChannelId, StatusName(status.State), status.Attempts, status.LastError,
            status.MessageIds, status.AcceptedAt, status.UpdatedAt, status.NextAttemptAt);
        return ToolResults.Create(result, $"{result.DeliveryId} to {result.Channel}: {result.Status} after {result.Attempts} attempt(s)"
            + (result.MessageIds.Count > 0 ? $", platform message ids {string.Join(", ", result.MessageIds)}" : "")
            + (result.LastError is null ? "" : $", last error: {result.LastError}")
            + (result.NextAttemptAt is { } next ? $", next attempt at {next:u}" : ""));
    }

    /// <summary>The delivery's status after up to <paramref name="wait"/>; null (still queued) if the cluster is failing over: it was accepted.</summary>
    private async Task<DeliveryStatus?> WaitForDeliveryAsync(string tenant, string channelId, string deliveryId, TimeSpan wait)
    {
        try
        {
            return await ClusterCalls.WaitForDeliveryAsync(Channel(tenant, channelId), deliveryId, wait);
        }
        catch (Exception e) when (ClusterCalls.IsTransient(e))
        {
            logger.LogWarning("Delivery {Delivery} was accepted; waiting on it failed ({Error})", deliveryId, e.GetType().Name);
            return null;
        }
    }

    private static string Quote(string id) => id.Length > MaxQuotedId ? id[..MaxQuotedId] + "..." : id;

    private IChannelGrain Channel(string tenant, string channelId) => grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channelId));

    private static IReadOnlyList<string> Targets(string? channel, string[]? channels)
    {
        var targets = (channels ?? []).Append(channel).Where(c => !string.IsNullOrWhiteSpace(c)).Select(c => c!.Trim()).Distinct().ToList();
        if (targets.Count == 0) throw new McpException("give 'channel' or 'channels'");
        if (targets.Count > MaxChannelsPerCall) throw new McpException($"at most {MaxChannelsPerCall} channels per call");
        if (targets.FirstOrDefault(c => !GrainKeys.IsValidChannelId(c)) is { } bad)
            throw new McpException($"'{(bad.Length > 64 ? bad[..64] + "..." : bad)}' is not a valid channel id");
        return targets;
    }

    private static DeliveryResult Describe(string channelId, DeliveryStatus? status, EnqueueResult accepted) =>
        new(channelId, accepted.DeliveryId, status is null ? "queued" : StatusName(status.State),
            status?.MessageIds.FirstOrDefault(), status?.LastError, accepted.Duplicate);

    private static string StatusName(DeliveryState state) => state.ToString().ToLowerInvariant();
}

public sealed record SendNotificationResult([property: JsonPropertyName("deliveries")] IReadOnlyList<DeliveryResult> Deliveries);

public sealed record DeliveryResult(
    [property: JsonPropertyName("channel")] string Channel,
    [property: JsonPropertyName("delivery_id")] string? DeliveryId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("message_id")] string? MessageId,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("duplicate")] bool Duplicate);

public sealed record DeliveryStatusResult(
    [property: JsonPropertyName("delivery_id")] string DeliveryId,
    [property: JsonPropertyName("channel")] string Channel,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("last_error")] string? LastError,
    [property: JsonPropertyName("message_ids")] IReadOnlyList<string> MessageIds,
    [property: JsonPropertyName("accepted_at")] DateTimeOffset AcceptedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("next_attempt_at")] DateTimeOffset? NextAttemptAt);
