using System.Net;
using System.Text.Json.Nodes;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Rendering;

namespace Dovecote.Grains.Channels.Discord;

/// <summary>Discord webhook execution with ?wait=true, so we get the message id as a receipt.</summary>
public sealed class DiscordSender(IHttpClientFactory httpClientFactory, TimeProvider time) : IChannelSender
{
    private const int SuppressNotifications = 1 << 12;

    public ChannelType Type => ChannelType.Discord;

    public IReadOnlyList<RenderedChunk> Render(Notification notification, RenderLimits limits) =>
        DiscordRenderer.Render(notification, DiscordRenderer.MaxLength, limits);

    public Task<SendOutcome> SendAsync(SendRequest request, CancellationToken cancellationToken)
    {
        var settings = (DiscordSettings)request.Settings;
        var body = new JsonObject
        {
            ["content"] = request.AsPlainText ? request.Chunk.PlainText : request.Chunk.Text,
            // Agent text must never ping @everyone or users.
            ["allowed_mentions"] = new JsonObject { ["parse"] = new JsonArray() },
        };
        if (request.Notification.Priority == NotificationPriority.Low) body["flags"] = SuppressNotifications;

        var url = settings.WebhookUrl + (settings.WebhookUrl.Contains('?') ? "&" : "?") + "wait=true";
        return DeliveryHttp.PostJsonAsync(
            httpClientFactory.CreateClient(DeliveryHttp.GuardedClient), request.Pipeline, url, body, Classify, cancellationToken);
    }

    /// <summary>Longer than any bucket id Discord sends (32 hex characters); a destination's headers are hostile until checked.</summary>
    private const int MaxBucketIdLength = 64;

    private SendOutcome Classify(HttpResponseMessage response, string body) => ClassifyStatus(response, body) with { Bucket = BucketOf(response) };

    /// <summary>The bucket the answer names, when its headers are whole and sane; null otherwise.</summary>
    private static RateBucket? BucketOf(HttpResponseMessage response)
    {
        var id = DeliveryHttp.Header(response, "X-RateLimit-Bucket");
        if (id is not { Length: > 0 and <= MaxBucketIdLength } || !id.All(char.IsAsciiLetterOrDigit)) return null;
        if (!int.TryParse(DeliveryHttp.Header(response, "X-RateLimit-Limit"), out var limit) || limit is < 1 or > 10_000) return null;
        if (!int.TryParse(DeliveryHttp.Header(response, "X-RateLimit-Remaining"), out var remaining) || remaining < 0 || remaining > limit) return null;
        return ResetAfter(response) is { } reset ? new RateBucket(id, limit, remaining, reset) : null;
    }

    private SendOutcome ClassifyStatus(HttpResponseMessage response, string body)
    {
        var reply = ReplyJson.Read(body);
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            // An exhausted bucket means the next send would be a 429: pause until it resets.
            var exhausted = DeliveryHttp.Header(response, "X-RateLimit-Remaining") == "0";
            return SendOutcome.Delivered(reply.String("id"), exhausted ? ResetAfter(response) : null);
        }

        var code = reply.Int64("code");
        var error = $"discord {status}: {reply.String("message") ?? "HTTP " + status}" + (code is { } c ? $" (code {c})" : "");
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            // Discord documents Retry-After, retry_after and X-RateLimit-Reset-After; take the longest.
            var waits = new[] { RetryAfter.FromRetryAfterHeader(response, time), ResetAfter(response), reply.Seconds("retry_after") };
            return SendOutcome.RateLimited(error, waits.Max() ?? TimeSpan.FromSeconds(1));
        }
        if (status >= 500)
            return SendOutcome.Retryable(error);
        return response.StatusCode switch
        {
            // "If a webhook returns a 404 you should not attempt to use it again."
            HttpStatusCode.NotFound or HttpStatusCode.Unauthorized => SendOutcome.Dead(error, disableChannel: true),
            HttpStatusCode.Forbidden => SendOutcome.Dead(error),
            HttpStatusCode.RequestEntityTooLarge => new SendOutcome(OutcomeKind.TooLong, Error: error),
            _ when code == 50035 && body.Contains("BASE_TYPE_MAX_LENGTH", StringComparison.Ordinal) => new SendOutcome(OutcomeKind.TooLong, Error: error),
            _ => SendOutcome.Rejected(error),
        };
    }

    private static TimeSpan? ResetAfter(HttpResponseMessage response) => RetryAfter.FromSecondsHeader(response, "X-RateLimit-Reset-After");
}
