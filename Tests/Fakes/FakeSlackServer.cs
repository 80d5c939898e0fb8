using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Tests.Fakes;

/// <summary>A message the fake accepted. <paramref name="Text"/> is empty when only blocks were sent.</summary>
public sealed record SlackMessage(
    string WebhookPath,
    string Text,
    bool? Mrkdwn,
    string? BlocksJson,
    DateTimeOffset ReceivedAt);

/// <summary>
/// Fake Slack incoming webhooks: <c>POST /services/T…/B…/…</c>. Slack answers in plain text: "ok" on success,
/// an error code (e.g. <c>invalid_payload</c>, <c>no_service</c>) otherwise, with the HTTP status.
/// </summary>
public sealed class FakeSlackServer : FakePlatformServer
{
    private const string TextHtml = "text/html";

    // "1 per second; short bursts >1 allowed".
    private const double Burst = 2;
    private const double PerSecond = 1;

    private const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private const string SecretCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private readonly Lock _state = new();
    private readonly Dictionary<string, HookState> _webhooks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (double Tokens, long At)> _buckets = new(StringComparer.Ordinal);
    private readonly List<SlackMessage> _messages = [];
    private volatile bool _enforceRateLimit;

    private enum HookState
    {
        Active,
        Revoked,
        Archived,
    }

    /// <summary>Enforce about 1 message/s per webhook after a burst of 2 (429, Retry-After: 1). Off by default.</summary>
    public bool EnforceRateLimit
    {
        get => _enforceRateLimit;
        set => _enforceRateLimit = value;
    }

    /// <summary>Snapshot of the messages accepted so far.</summary>
    public IReadOnlyList<SlackMessage> Messages
    {
        get
        {
            lock (_state)
            {
                return _messages.ToArray();
            }
        }
    }

    protected override ScriptedResponse DownResponse => PlainText(503, "service_unavailable");

    /// <summary>429 <c>rate_limited</c> with a Retry-After header in seconds.</summary>
    public static ScriptedResponse RateLimited(int retryAfterSeconds) =>
        PlainText(429, "rate_limited", HeaderMap(("Retry-After", retryAfterSeconds.ToString(CultureInfo.InvariantCulture))));

    /// <summary>500 <c>rollup_error</c>, Slack's catch-all server failure.</summary>
    public static ScriptedResponse ServerError() => PlainText(500, "rollup_error");

    /// <summary>
    /// Registers a webhook and returns its URL: <c>{BaseUrl}/services/T…/B…/{secret}</c>, in workspace <paramref name="team"/>
    /// ("T" and letters or digits) when given, else in a workspace of its own.
    /// </summary>
    public string CreateWebhook(string? team = null)
    {
        team ??= "T" + RandomNumberGenerator.GetString(Alphanumerics, 10);
        var path = $"/services/{team}/B{RandomNumberGenerator.GetString(Alphanumerics, 10)}"
            + $"/{RandomNumberGenerator.GetString(SecretCharacters, 24)}";
        lock (_state)
        {
            _webhooks[path] = HookState.Active;
        }

        return BaseUrl + path;
    }

    /// <summary>Revokes a webhook (app uninstalled, URL rotated): later requests get 404 <c>no_service</c>.</summary>
    public void RevokeWebhook(string url) => SetState(url, HookState.Revoked);

    /// <summary>Archives the webhook's channel: later requests get 410 <c>channel_is_archived</c>.</summary>
    public void ArchiveWebhook(string url) => SetState(url, HookState.Archived);

    protected override void MapRoutes(IEndpointRouteBuilder routes)
    {
        MapPlatform(routes, "/services/{team}/{bot}/{secret}", ["POST"], Post);
        MapUnknown(routes, _ => PlainText(404, "no_service"));
    }

    private static ScriptedResponse PlainText(int status, string body, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, body, TextHtml, headers);

    private void SetState(string url, HookState state)
    {
        var path = new Uri(url).AbsolutePath;
        lock (_state)
        {
            if (!_webhooks.ContainsKey(path))
            {
                throw new ArgumentException($"Not a webhook of this fake: {url}", nameof(url));
            }

            _webhooks[path] = state;
        }
    }

    private ScriptedResponse Post(PlatformRequest request)
    {
        var path = request.Context.Request.Path.Value ?? string.Empty;
        lock (_state)
        {
            switch (_webhooks.TryGetValue(path, out var state) ? state : HookState.Revoked)
            {
                case HookState.Revoked:
                    return PlainText(404, "no_service");
                case HookState.Archived:
                    return PlainText(410, "channel_is_archived");
            }

            if (EnforceRateLimit && !TryTakeToken(path))
            {
                return RateLimited(1);
            }

            if (!TryReadPayload(request, out var payload))
            {
                return PlainText(400, "invalid_payload");
            }

            var text = AsString(payload["text"]);
            if (payload["text"] is not null && text is null)
            {
                return PlainText(400, "invalid_payload");
            }

            string? blocksJson = null;
            switch (payload["blocks"])
            {
                case null:
                    break;
                case JsonArray blocks when blocks.Count > 50:
                    return PlainText(400, "invalid_blocks");
                case JsonArray blocks:
                    // A section block's text is limited to 3000 characters.
                    if (blocks.Any(block => block is JsonObject b && AsString(b["type"]) == "section"
                        && b["text"] is JsonObject sectionText && AsString(sectionText["text"])?.Length > 3000))
                    {
                        return PlainText(400, "invalid_blocks");
                    }

                    blocksJson = blocks.Count > 0 ? blocks.ToJsonString() : null;
                    break;
                default:
                    return PlainText(400, "invalid_blocks_format");
            }

            if (string.IsNullOrWhiteSpace(text) && blocksJson is null)
            {
                return PlainText(400, "no_text");
            }

            bool? mrkdwn = payload["mrkdwn"] is JsonValue flag && flag.GetValueKind() is JsonValueKind.True or JsonValueKind.False
                ? flag.GetValue<bool>()
                : null;
            _messages.Add(new SlackMessage(path, text ?? string.Empty, mrkdwn, blocksJson, request.ReceivedAt));
            return PlainText(200, "ok");
        }
    }

    private static string? AsString(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    // Incoming webhooks take a JSON body, or a form field "payload" holding the JSON.
    private static bool TryReadPayload(PlatformRequest request, out JsonObject payload)
    {
        payload = [];
        var json = request.Body;
        var mediaType = request.ContentType?.Split(';')[0].Trim() ?? string.Empty;
        if (mediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            json = QueryHelpers.ParseQuery(request.Body).TryGetValue("payload", out var field) ? field.ToString() : string.Empty;
        }

        try
        {
            if (JsonNode.Parse(json) is JsonObject parsed)
            {
                payload = parsed;
                return true;
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }

    // Token bucket per webhook; caller holds _state.
    private bool TryTakeToken(string path)
    {
        var now = Stopwatch.GetTimestamp();
        var (tokens, at) = _buckets.GetValueOrDefault(path, (Burst, now));
        tokens = Math.Min(Burst, tokens + Stopwatch.GetElapsedTime(at, now).TotalSeconds * PerSecond);
        var allowed = tokens >= 1;
        _buckets[path] = (allowed ? tokens - 1 : tokens, now);
        return allowed;
    }
}
