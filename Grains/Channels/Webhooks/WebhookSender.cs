using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Rendering;

namespace Dovecote.Grains.Channels.Webhooks;

/// <summary>A generic HTTPS endpoint, signed per the Standard Webhooks spec.</summary>
public sealed class WebhookSender(IHttpClientFactory httpClientFactory, TimeProvider time) : IChannelSender
{
    public const string EventType = "notification.sent";

    public ChannelType Type => ChannelType.Webhook;

    /// <summary>Webhooks carry the whole notification as JSON, so there is one chunk whatever the limits.</summary>
    public IReadOnlyList<RenderedChunk> Render(Notification notification, RenderLimits limits) =>
        [new RenderedChunk(notification.Message, notification.Message)];

    public Task<SendOutcome> SendAsync(SendRequest request, CancellationToken cancellationToken)
    {
        var settings = (WebhookSettings)request.Settings;
        var n = request.Notification;
        var payload = new JsonObject
        {
            ["type"] = EventType,
            ["timestamp"] = time.GetUtcNow().ToString("O"),
            ["data"] = new JsonObject
            {
                ["delivery_id"] = request.DeliveryId,
                ["title"] = n.Title,
                ["message"] = n.Message,
                ["url"] = n.Url,
                ["priority"] = n.Priority.ToString().ToLowerInvariant(),
                ["format"] = n.Format.ToString().ToLowerInvariant(),
            },
        }.ToJsonString();

        return DeliveryHttp.SendAsync(
            httpClientFactory.CreateClient(DeliveryHttp.GuardedClient),
            request.Pipeline,
            () =>
            {
                // The timestamp is per attempt; the id stays the same so receivers can dedupe retries.
                var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString();
                var message = new HttpRequestMessage(HttpMethod.Post, settings.Url) { Content = DeliveryHttp.Json(payload) };
                message.Headers.Add("webhook-id", request.DeliveryId);
                message.Headers.Add("webhook-timestamp", timestamp);
                message.Headers.Add("webhook-signature", Sign(settings.SigningKey(), request.DeliveryId, timestamp, payload));
                return message;
            },
            Classify,
            cancellationToken);
    }

    /// <summary>"v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).</summary>
    public static string Sign(byte[] key, string id, string timestamp, string body) =>
        "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));

    private SendOutcome Classify(HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
            return SendOutcome.Delivered(messageId: null);

        var error = $"webhook {status}";
        return response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable when RetryAfter.FromRetryAfterHeader(response, time) is { } wait
                => SendOutcome.RateLimited(error, wait),
            HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout => SendOutcome.Retryable(error),
            _ when status >= 500 => SendOutcome.Retryable(error),
            // The spec: 410 means the endpoint is gone for good; disable it.
            HttpStatusCode.Gone => SendOutcome.Dead(error, disableChannel: true),
            // We never follow redirects (SSRF): a moved endpoint needs its URL updated.
            _ when status is >= 300 and < 400 => SendOutcome.Dead(error + " (redirects are not followed; update the URL)"),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound => SendOutcome.Dead(error),
            _ => SendOutcome.Rejected(error),
        };
    }
}
