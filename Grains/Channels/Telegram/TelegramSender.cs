using System.Net;
using System.Text.Json.Nodes;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Rendering;

namespace Dovecote.Grains.Channels.Telegram;

/// <summary>Bot API sendMessage in HTML parse mode.</summary>
public sealed class TelegramSender(IHttpClientFactory httpClientFactory, IOptions<ChannelTargetOptions> targets, TimeProvider time) : IChannelSender
{
    public ChannelType Type => ChannelType.Telegram;

    public IReadOnlyList<RenderedChunk> Render(Notification notification, RenderLimits limits) =>
        TelegramRenderer.Render(notification, TelegramRenderer.MaxLength, limits);

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
        var reply = ReplyJson.Read(body);
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
            // The Bot API always answers success with "ok": true. A 2xx without it is not Telegram's acceptance
            // (a proxy's page, garbage): at-least-once prefers a possible duplicate to a silent loss.
            return reply.IsTrue("ok")
                ? SendOutcome.Delivered(reply.Int64("result.message_id")?.ToString())
                : SendOutcome.Retryable($"telegram {status}: the answer is not a Bot API success");

        var description = reply.String("description") ?? $"HTTP {status}";
        var error = $"telegram {status}: {description}";
        if (reply.Int64("parameters.migrate_to_chat_id") is { } migrated)
            return new SendOutcome(OutcomeKind.ChatMigrated, Error: error, MigrateToChatId: migrated.ToString());
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
            return SendOutcome.RateLimited(error, reply.Seconds("parameters.retry_after") ?? TimeSpan.FromSeconds(1));
        if (status >= 500)
            return SendOutcome.Retryable(error, RetryAfter.FromRetryAfterHeader(response, time));
        if (Has(description, "can't parse entities"))
            return new SendOutcome(OutcomeKind.MarkupRejected, Error: error);
        if (Has(description, "message is too long"))
            return new SendOutcome(OutcomeKind.TooLong, Error: error);
        return response.StatusCode switch
        {
            // A rejected token breaks every chat of this bot: stop at once.
            HttpStatusCode.Unauthorized or HttpStatusCode.NotFound => SendOutcome.CredentialRefused(error),
            HttpStatusCode.Forbidden => SendOutcome.Dead(
                error,
                disableChannel: Has(description, "blocked") || Has(description, "kicked") || Has(description, "deactivated")),
            _ when Has(description, "chat not found") || Has(description, "thread not found") || Has(description, "chat_id is empty") =>
                SendOutcome.Dead(error),
            _ => SendOutcome.Rejected(error),
        };
    }

    private static bool Has(string text, string part) => text.Contains(part, StringComparison.OrdinalIgnoreCase);
}
