using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;

namespace Dovecote.Tests.Fakes;

/// <summary>A webhook execution the fake accepted.</summary>
public sealed record DiscordMessage(
    string WebhookId,
    string Content,
    string? AllowedMentionsJson,
    int Flags,
    string Id,
    DateTimeOffset ReceivedAt);

/// <summary>
/// Fake Discord webhooks: <c>POST /api/webhooks/{id}/{token}</c> (query <c>wait</c>, <c>thread_id</c>) with
/// Discord's JSON errors and rate limit (5 per 2 s per bucket, reported in X-RateLimit-* headers). Each webhook
/// has its own bucket unless created into a shared one, as Discord does since 2024 (discord-api-docs#6753).
/// </summary>
public sealed class FakeDiscordServer : FakePlatformServer
{
    /// <summary>Requests per window for one webhook, as Discord reports for webhooks.</summary>
    public const int RateLimit = 5;

    public const int MaxContentLength = 2000;

    /// <summary>Length of the per-webhook rate-limit window.</summary>
    public static readonly TimeSpan RateLimitWindow = TimeSpan.FromSeconds(2);

    private const string Json = "application/json";

    // Discord's own bodies (its API writes JSON with ", " and ": " separators).
    private const string UnknownWebhookBody = """{"message": "Unknown Webhook", "code": 10015}""";
    private const string InvalidTokenBody = """{"message": "Invalid Webhook Token", "code": 50027}""";
    private const string InvalidJsonBody = """{"message": "The request body contains invalid JSON.", "code": 50109}""";
    private const string EmptyMessageBody = """{"message": "Cannot send an empty message", "code": 50006}""";
    private const string NotFoundBody = """{"message": "404: Not Found", "code": 0}""";
    private const string MissingPermissionsBody = """{"message": "Missing Permissions", "code": 50013}""";

    // Discord epoch (2015-01-01) for snowflakes.
    private const long DiscordEpochMs = 1_420_070_400_000;

    private readonly Lock _state = new();
    private readonly Dictionary<string, Webhook> _webhooks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly List<DiscordMessage> _messages = [];
    private long _lastSnowflake;
    private volatile bool _enforceRateLimit = true;

    /// <summary>Reject a webhook's 6th request within its 2 s window with a 429 (default true).
    /// The X-RateLimit-* headers are sent either way.</summary>
    public bool EnforceRateLimit
    {
        get => _enforceRateLimit;
        set => _enforceRateLimit = value;
    }

    /// <summary>Snapshot of the messages accepted so far.</summary>
    public IReadOnlyList<DiscordMessage> Messages
    {
        get
        {
            lock (_state)
            {
                return _messages.ToArray();
            }
        }
    }

    protected override ScriptedResponse DownResponse => new(503, """{"message": "upstream connect error", "code": 0}""", Json);

    /// <summary>A 429 as Discord sends it: JSON body with float <c>retry_after</c>, Retry-After (whole seconds,
    /// rounded up), X-RateLimit-Scope: user and the X-RateLimit-* headers of an exhausted bucket.</summary>
    public static ScriptedResponse RateLimited(double retryAfterSeconds) =>
        RateLimitedResponse(retryAfterSeconds, "0000000000000000000000000000fake");

    /// <summary>500 with Discord's generic error body.</summary>
    public static ScriptedResponse ServerError() => new(500, """{"message": "500: Internal Server Error", "code": 0}""", Json);

    /// <summary>How many requests were answered 429 (scripted ones included), from <see cref="FakePlatformServer.Requests"/>.</summary>
    public int RateLimitedCount => Requests.Count(r => r.StatusCode == 429);

    /// <summary>Registers a webhook and returns its full URL: <c>{BaseUrl}/api/webhooks/{id}/{token}</c>.
    /// Webhooks created with the same <paramref name="sharedBucket"/> name share one rate-limit window and report
    /// one X-RateLimit-Bucket; without it the webhook has a bucket of its own.</summary>
    public string CreateWebhook(string? sharedBucket = null)
    {
        var token = Base64Url(RandomNumberGenerator.GetBytes(51));
        lock (_state)
        {
            var id = NextSnowflake(DateTimeOffset.UtcNow);
            var channelId = NextSnowflake(DateTimeOffset.UtcNow);
            var bucketId = BucketId(sharedBucket is null ? id : "shared:" + sharedBucket);
            if (!_buckets.TryGetValue(bucketId, out var bucket))
            {
                bucket = _buckets[bucketId] = new Bucket(bucketId);
            }

            _webhooks[id] = new Webhook(id, token, channelId, bucket);
            return $"{BaseUrl}/api/webhooks/{id}/{token}";
        }
    }

    /// <summary>Takes the webhook's permissions away: later requests with its token get 403 Missing Permissions
    /// (still counted against its bucket). Throws for a webhook that does not exist.</summary>
    public void ForbidWebhook(string url)
    {
        var id = ParseWebhookUrl(url).Id;
        lock (_state)
        {
            if (!_webhooks.TryGetValue(id, out var webhook))
            {
                throw new ArgumentException($"No such webhook: {url}", nameof(url));
            }

            webhook.Forbidden = true;
        }
    }

    /// <summary>The most accepted messages of the given webhooks whose ReceivedAt fall in one half-open window
    /// [t, t + <paramref name="window"/>), over all t: what a client's pacing of a (shared) bucket achieved.</summary>
    public int MaxAcceptedInAnyWindow(IEnumerable<string> webhookUrls, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(webhookUrls);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var ids = webhookUrls.Select(url => ParseWebhookUrl(url).Id).ToHashSet(StringComparer.Ordinal);
        var times = Messages.Where(m => ids.Contains(m.WebhookId)).Select(m => m.ReceivedAt).Order().ToArray();
        var best = 0;
        for (int first = 0, last = 0; last < times.Length; last++)
        {
            while (times[last] - times[first] >= window)
            {
                first++;
            }

            best = Math.Max(best, last - first + 1);
        }

        return best;
    }

    /// <summary>Deletes a webhook: later requests get 404 Unknown Webhook.</summary>
    public void DeleteWebhook(string url)
    {
        var id = ParseWebhookUrl(url).Id;
        lock (_state)
        {
            _webhooks.Remove(id);
        }
    }

    protected override void MapRoutes(IEndpointRouteBuilder routes)
    {
        MapPlatform(routes, "/api/webhooks/{id}/{token}", ["POST"], Execute);
        MapUnknown(routes, _ => new ScriptedResponse(404, NotFoundBody, Json));
    }

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);

    // 32 lowercase hex characters, the shape of Discord's bucket ids.
    private static string BucketId(string seed) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed)))[..32];

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (string Id, string Token) ParseWebhookUrl(string url)
    {
        var segments = new Uri(url).AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length != 4 || segments[0] != "api" || segments[1] != "webhooks")
        {
            throw new ArgumentException($"Not a Discord webhook URL: {url}", nameof(url));
        }

        return (segments[2], segments[3]);
    }

    private static ScriptedResponse RateLimitedResponse(double retryAfter, string bucket)
    {
        var resetAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + retryAfter;
        var headers = HeaderMap(
            ("Retry-After", ((long)Math.Ceiling(retryAfter)).ToString(CultureInfo.InvariantCulture)),
            ("X-RateLimit-Limit", RateLimit.ToString(CultureInfo.InvariantCulture)),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", Seconds(resetAt)),
            ("X-RateLimit-Reset-After", Seconds(retryAfter)),
            ("X-RateLimit-Bucket", bucket),
            ("X-RateLimit-Scope", "user"));
        var body = Invariant($$"""{"message": "You are being rate limited.", "retry_after": {{Seconds(retryAfter)}}, "global": false}""");
        return new ScriptedResponse(429, body, Json, headers);
    }

    private static ScriptedResponse InvalidFormBody(JsonObject errors) =>
        new(400, new JsonObject { ["message"] = "Invalid Form Body", ["code"] = 50035, ["errors"] = errors }.ToJsonString(), Json);

    private static JsonObject FieldError(string code, string message) =>
        new() { ["_errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message }) };

    private static int TextLength(string text) => text.EnumerateRunes().Count();

    private ScriptedResponse Execute(PlatformRequest request)
    {
        var id = request.RouteValue("id");
        var token = request.RouteValue("token");
        var receivedAt = request.ReceivedAt;

        lock (_state)
        {
            if (!_webhooks.TryGetValue(id, out var webhook))
            {
                return new ScriptedResponse(404, UnknownWebhookBody, Json);
            }

            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(webhook.Token)))
            {
                return new ScriptedResponse(401, InvalidTokenBody, Json);
            }

            // Every request to the webhook counts against its bucket (shared or its own), valid or not.
            var bucket = webhook.Bucket;
            var now = Stopwatch.GetTimestamp();
            if (bucket.WindowStart is null || Stopwatch.GetElapsedTime(bucket.WindowStart.Value, now) >= RateLimitWindow)
            {
                bucket.WindowStart = now;
                bucket.WindowResetAt = receivedAt + RateLimitWindow;
                bucket.Used = 0;
            }

            var resetAfter = Math.Max(0, (RateLimitWindow - Stopwatch.GetElapsedTime(bucket.WindowStart.Value, now)).TotalSeconds);
            if (bucket.Used >= RateLimit && EnforceRateLimit)
            {
                return RateLimitedResponse(resetAfter, bucket.Id);
            }

            bucket.Used++;
            var headers = HeaderMap(
                ("X-RateLimit-Limit", RateLimit.ToString(CultureInfo.InvariantCulture)),
                ("X-RateLimit-Remaining", Math.Max(0, RateLimit - bucket.Used).ToString(CultureInfo.InvariantCulture)),
                ("X-RateLimit-Reset", Seconds(bucket.WindowResetAt.ToUnixTimeMilliseconds() / 1000.0)),
                ("X-RateLimit-Reset-After", Seconds(resetAfter)),
                ("X-RateLimit-Bucket", bucket.Id));

            if (webhook.Forbidden)
            {
                return new ScriptedResponse(403, MissingPermissionsBody, Json, headers);
            }

            var response = Validate(request, out var payload);
            if (response is not null)
            {
                return response with { Headers = headers };
            }

            var messageId = NextSnowflake(receivedAt);
            var threadId = request.Query("thread_id");
            _messages.Add(new DiscordMessage(webhook.Id, payload!.Content, payload.AllowedMentionsJson, payload.Flags, messageId, receivedAt));

            // wait=true: the saved message comes back; otherwise 204 and no receipt.
            var wait = request.Query("wait");
            if (!string.Equals(wait, "true", StringComparison.OrdinalIgnoreCase) && wait != "1")
            {
                return new ScriptedResponse(204, string.Empty, string.Empty, headers);
            }

            var message = new JsonObject
            {
                ["type"] = 0,
                ["channel_id"] = string.IsNullOrEmpty(threadId) ? webhook.ChannelId : threadId,
                ["content"] = payload.Content,
                ["attachments"] = new JsonArray(),
                ["embeds"] = payload.Embeds?.DeepClone() ?? new JsonArray(),
                ["timestamp"] = receivedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture),
                ["edited_timestamp"] = null,
                ["flags"] = payload.Flags,
                ["components"] = new JsonArray(),
                ["id"] = messageId,
                ["author"] = new JsonObject
                {
                    ["id"] = webhook.Id,
                    ["username"] = payload.Username ?? "Dovecote Fake Webhook",
                    ["avatar"] = null,
                    ["discriminator"] = "0000",
                    ["bot"] = true,
                },
                ["mentions"] = new JsonArray(),
                ["mention_roles"] = new JsonArray(),
                ["pinned"] = false,
                ["mention_everyone"] = false,
                ["tts"] = false,
                ["webhook_id"] = webhook.Id,
            };
            return new ScriptedResponse(200, message.ToJsonString(), Json, headers);
        }
    }

    // Body checks in Discord's order: JSON syntax, field types and lengths, then "at least one of".
    private static ScriptedResponse? Validate(PlatformRequest request, out Payload? payload)
    {
        payload = null;
        JsonNode? root;
        try
        {
            root = request.RawBody.Length == 0 ? null : JsonNode.Parse(request.RawBody);
        }
        catch (JsonException)
        {
            return new ScriptedResponse(400, InvalidJsonBody, Json);
        }

        if (root is not JsonObject body)
        {
            return new ScriptedResponse(400, InvalidJsonBody, Json);
        }

        var errors = new JsonObject();
        var content = string.Empty;
        switch (body["content"])
        {
            case null:
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                content = value.GetValue<string>();
                if (TextLength(content) > MaxContentLength)
                {
                    errors["content"] = FieldError("BASE_TYPE_MAX_LENGTH", Invariant($"Must be {MaxContentLength} or fewer in length."));
                }

                break;
            default:
                errors["content"] = FieldError("BASE_TYPE_STRING", "Must be a string.");
                break;
        }

        JsonArray? embeds = null;
        switch (body["embeds"])
        {
            case null:
                break;
            case JsonArray array:
                embeds = array;
                if (array.Count > 10)
                {
                    errors["embeds"] = FieldError("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
                }
                else
                {
                    ValidateEmbeds(array, errors);
                }

                break;
            default:
                errors["embeds"] = FieldError("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
                break;
        }

        var flags = 0;
        if (body["flags"] is JsonValue flagValue && flagValue.GetValueKind() == JsonValueKind.Number && flagValue.TryGetValue<int>(out var parsedFlags))
        {
            flags = parsedFlags;
        }
        else if (body["flags"] is not null)
        {
            errors["flags"] = FieldError("NUMBER_TYPE_COERCE", "Value is not int.");
        }

        if (errors.Count > 0)
        {
            return InvalidFormBody(errors);
        }

        if (content.Trim().Length == 0 && (embeds is null || embeds.Count == 0))
        {
            return new ScriptedResponse(400, EmptyMessageBody, Json);
        }

        payload = new Payload(
            content,
            embeds,
            body["allowed_mentions"]?.ToJsonString(),
            flags,
            body["username"] is JsonValue username && username.GetValueKind() == JsonValueKind.String ? username.GetValue<string>() : null);
        return null;
    }

    // Embed limits: title 256, description 4096, and 6000 characters across all embeds.
    private static void ValidateEmbeds(JsonArray embeds, JsonObject errors)
    {
        var total = 0;
        var embedErrors = new JsonObject();
        for (var index = 0; index < embeds.Count; index++)
        {
            if (embeds[index] is not JsonObject embed)
            {
                embedErrors[index.ToString(CultureInfo.InvariantCulture)] = FieldError("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
                continue;
            }

            var fieldErrors = new JsonObject();
            foreach (var (field, limit) in new[] { ("title", 256), ("description", 4096) })
            {
                if (embed[field] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                {
                    var length = TextLength(value.GetValue<string>());
                    total += length;
                    if (length > limit)
                    {
                        fieldErrors[field] = FieldError("BASE_TYPE_MAX_LENGTH", Invariant($"Must be {limit} or fewer in length."));
                    }
                }
            }

            if (fieldErrors.Count > 0)
            {
                embedErrors[index.ToString(CultureInfo.InvariantCulture)] = fieldErrors;
            }
        }

        if (embedErrors.Count > 0)
        {
            errors["embeds"] = embedErrors;
        }
        else if (total > 6000)
        {
            errors["embeds"] = FieldError("MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000");
        }
    }

    // Snowflake: milliseconds since the Discord epoch << 22, kept strictly increasing. Caller holds _state.
    private string NextSnowflake(DateTimeOffset at)
    {
        var candidate = (at.ToUnixTimeMilliseconds() - DiscordEpochMs) << 22;
        _lastSnowflake = Math.Max(candidate, _lastSnowflake + 1);
        return _lastSnowflake.ToString(CultureInfo.InvariantCulture);
    }

    private sealed record Payload(string Content, JsonArray? Embeds, string? AllowedMentionsJson, int Flags, string? Username);

    private sealed class Webhook(string id, string token, string channelId, Bucket bucket)
    {
        public string Id { get; } = id;

        public string Token { get; } = token;

        public string ChannelId { get; } = channelId;

        /// <summary>Possibly shared with other webhooks; its window counts all their requests.</summary>
        public Bucket Bucket { get; } = bucket;

        public bool Forbidden { get; set; }
    }

    /// <summary>One rate-limit window, keyed by the X-RateLimit-Bucket id its webhooks report. Guarded by _state.</summary>
    private sealed class Bucket(string id)
    {
        public string Id { get; } = id;

        public long? WindowStart { get; set; }

        public DateTimeOffset WindowResetAt { get; set; }

        public int Used { get; set; }
    }
}
