using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Rendering;

namespace Dovecote.Grains.Channels.Telegram;

/// <summary>Bot API sendMessage in HTML parse mode.</summary>
public sealed class TelegramSender(IHttpClientFactory httpClientFactory, IOptions<ChannelTargetOptions> targets, TimeProvider time) : IChannelSender
{
    public ChannelType Type => ChannelType.Telegram;

    public IReadOnlyList<RenderedChunk> Render(Notification notification) => TelegramRenderer.Render(notification);

    public Task<SendOutcome> SendAsync(SendRequest request, CancellationToken cancellationToken)
    {
        var settings = (TelegramSettings)request.Settings;
        var body = new JsonObject
        {
            // Numeric ids go as numbers; "@channel" names as strings.
            ["chat_id"] = long.TryParse(settings.ChatId, out var chatId) ? JsonValue.Create(chatId) : JsonValue.Create(settings.ChatId),
            ["text"] = request.AsPlainText ? request.Chunk.PlainText : request.Chunk.Text,
        };
        if (!request.AsPlainText) body["parse_mode"] = "HTML";
        if (settings.MessageThreadId is { } thread) body["message_thread_id"] = thread;
        if (request.Notification.Priority == NotificationPriority.Low) body["disable_notification"] = true;

        var url = $"{targets.Value.TelegramApiBaseUrl.TrimEnd('/')}/bot{settings.BotToken}/sendMessage";
        return DeliveryHttp.PostJsonAsync(
            httpClientFactory.CreateClient(DeliveryHttp.PlatformClient), request.Pipeline, url, body, Classify, cancellationToken);
    }

    /// <summary>Telegram warns error codes may change, so the description decides as much as the code.</summary>
    private SendOutcome Classify(HttpResponseMessage response, string body)
    {
        var reply = Parse(body);
        if (response.IsSuccessStatusCode && reply.Ok)
            return SendOutcome.Delivered(reply.MessageId?.ToString());

        var status = (int)response.StatusCode;
        var description = reply.Description ?? $"HTTP {status}";
        var error = $"telegram {status}: {description}";
        if (reply.MigrateToChatId is { } migrated)
            return new SendOutcome(OutcomeKind.ChatMigrated, Error: error, MigrateToChatId: migrated.ToString());
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
            return SendOutcome.RateLimited(error, TimeSpan.FromSeconds(reply.RetryAfter ?? 1));
        if (status >= 500)
            return SendOutcome.Retryable(error, DeliveryHttp.RetryAfter(response, time));
        if (Has(description, "can't parse entities"))
            return new SendOutcome(OutcomeKind.MarkupRejected, Error: error);
        if (Has(description, "message is too long"))
            return new SendOutcome(OutcomeKind.TooLong, Error: error);
        return response.StatusCode switch
        {
            // A rejected token breaks every chat of this bot: stop at once.
            HttpStatusCode.Unauthorized or HttpStatusCode.NotFound => SendOutcome.Dead(error, disableChannel: true),
            HttpStatusCode.Forbidden => SendOutcome.Dead(error, disableChannel: Has(description, "blocked") || Has(description, "kicked") || Has(description, "deactivated")),
            _ when Has(description, "chat not found") || Has(description, "thread not found") || Has(description, "chat_id is empty") => SendOutcome.Dead(error),
            _ => SendOutcome.Rejected(error),
        };
    }

    private static bool Has(string text, string part) => text.Contains(part, StringComparison.OrdinalIgnoreCase);

    private readonly record struct Reply(bool Ok, long? MessageId, string? Description, int? RetryAfter, long? MigrateToChatId);

    private static Reply Parse(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return default;
            var ok = root.TryGetProperty("ok", out var okValue) && okValue.ValueKind == JsonValueKind.True;
            long? messageId = root.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.Object
                && result.TryGetProperty("message_id", out var id) && id.TryGetInt64(out var m) ? m : null;
            var description = root.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            int? retryAfter = null;
            long? migrateTo = null;
            if (root.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object)
            {
                if (p.TryGetProperty("retry_after", out var r) && r.TryGetInt32(out var seconds)) retryAfter = seconds;
                if (p.TryGetProperty("migrate_to_chat_id", out var c) && c.TryGetInt64(out var chat)) migrateTo = chat;
            }
            return new Reply(ok, messageId, description, retryAfter, migrateTo);
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
