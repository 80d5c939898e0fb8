using System.Net;
using System.Text.Json.Nodes;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Rendering;

namespace Dovecote.Grains.Channels.Slack;

/// <summary>Slack incoming webhooks: mrkdwn text, answered by "ok" or a plain-text error.</summary>
public sealed class SlackSender(IHttpClientFactory httpClientFactory, TimeProvider time) : IChannelSender
{
    private static readonly HashSet<string> DeadDestinationErrors =
    [
        "no_service", "no_service_id", "no_team", "team_disabled", "invalid_token", "channel_not_found",
        "channel_is_archived", "action_prohibited", "user_not_found", "posting_to_general_channel_denied",
    ];

    public ChannelType Type => ChannelType.Slack;

    public IReadOnlyList<RenderedChunk> Render(Notification notification, RenderLimits limits) =>
        SlackRenderer.Render(notification, SlackRenderer.MaxLength, limits);

    public Task<SendOutcome> SendAsync(SendRequest request, CancellationToken cancellationToken)
    {
        var settings = (SlackSettings)request.Settings;
        var body = new JsonObject
        {
            ["text"] = request.AsPlainText ? request.Chunk.PlainText : request.Chunk.Text,
            ["mrkdwn"] = !request.AsPlainText,
        };
        return DeliveryHttp.PostJsonAsync(
            httpClientFactory.CreateClient(DeliveryHttp.GuardedClient), request.Pipeline, settings.WebhookUrl, body, Classify, cancellationToken);
    }

    private SendOutcome Classify(HttpResponseMessage response, string body)
    {
        var text = body.Trim();
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
            return SendOutcome.Delivered(messageId: null); // incoming webhooks return no message id

        var error = $"slack {status}: {(text.Length is > 0 and <= 100 ? text : "HTTP " + status)}";
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
            return SendOutcome.RateLimited(error, RetryAfter.FromRetryAfterHeader(response, time) ?? TimeSpan.FromSeconds(1));
        if (status >= 500 || text == "rollup_error")
            return SendOutcome.Retryable(error);
        if (DeadDestinationErrors.Contains(text))
            // A revoked or archived webhook will not come back.
            return SendOutcome.Dead(
                error,
                disableChannel: text is "no_service" or "channel_is_archived" or "invalid_token" || response.StatusCode == HttpStatusCode.Gone);
        if (text == "invalid_payload")
            return new SendOutcome(OutcomeKind.MarkupRejected, Error: error);
        return response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone or HttpStatusCode.Forbidden
            ? SendOutcome.Dead(error)
            : SendOutcome.Rejected(error);
    }
}
