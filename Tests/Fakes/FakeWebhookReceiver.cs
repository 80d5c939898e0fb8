using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Routing;

namespace Dovecote.Tests.Fakes;

/// <summary>A delivery whose Standard Webhooks signature verified.</summary>
public sealed record WebhookDelivery(
    string EndpointName,
    string WebhookId,
    long Timestamp,
    string Body,
    DateTimeOffset ReceivedAt);

/// <summary>
/// A customer's endpoint that verifies Standard Webhooks signatures: <c>POST /hooks/{name}</c> with
/// <c>webhook-id</c>, <c>webhook-timestamp</c> and <c>webhook-signature: v1,&lt;base64 HMAC-SHA256&gt;</c>
/// over <c>"{id}.{timestamp}.{raw body}"</c>, keyed by the base64-decoded part of the <c>whsec_</c> secret.
/// </summary>
public sealed class FakeWebhookReceiver : FakePlatformServer
{
    /// <summary>Timestamps further than this from now are rejected (replay protection; the spec's 5 minutes).</summary>
    public static readonly TimeSpan TimestampTolerance = TimeSpan.FromMinutes(5);

    private const string Json = "application/json";
    private const string InvalidSignatureBody = """{"error":"invalid signature"}""";

    private readonly Lock _state = new();
    private readonly Dictionary<string, byte[]> _endpoints = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
    private readonly List<WebhookDelivery> _deliveries = [];
    private int _endpointCount;

    /// <summary>Snapshot of the signature-valid deliveries received so far.</summary>
    public IReadOnlyList<WebhookDelivery> Deliveries
    {
        get
        {
            lock (_state)
            {
                return _deliveries.ToArray();
            }
        }
    }

    protected override ScriptedResponse DownResponse => new(503, """{"error":"service unavailable"}""", Json);

    public static ScriptedResponse ServerError() => new(500, """{"error":"internal server error"}""", Json);

    /// <summary>429 with a Retry-After header in seconds (the spec asks senders to honour it).</summary>
    public static ScriptedResponse RateLimited(int retryAfterSeconds) =>
        new(429, """{"error":"rate limited"}""", Json, HeaderMap(("Retry-After", retryAfterSeconds.ToString(CultureInfo.InvariantCulture))));

    /// <summary>Creates an endpoint: its URL <c>{BaseUrl}/hooks/{name}</c> and a fresh <c>whsec_</c> secret (32 random bytes).</summary>
    public (string Url, string Secret) CreateEndpoint()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var name = string.Create(
            CultureInfo.InvariantCulture,
            $"ep{Interlocked.Increment(ref _endpointCount)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        lock (_state)
        {
            _endpoints[name] = key;
        }

        return ($"{BaseUrl}/hooks/{name}", "whsec_" + Convert.ToBase64String(key));
    }

    /// <summary>Removes an endpoint: later requests get 410 Gone, which tells a sender to disable it.</summary>
    public void RemoveEndpoint(string url)
    {
        var name = EndpointName(url);
        lock (_state)
        {
            if (_endpoints.Remove(name))
            {
                _removed.Add(name);
            }
        }
    }

    protected override void MapRoutes(IEndpointRouteBuilder routes)
    {
        MapPlatform(routes, "/hooks/{name}", ["POST"], Receive);
        MapUnknown(routes, _ => new ScriptedResponse(404, """{"error":"not found"}""", Json));
    }

    private static string EndpointName(string url)
    {
        var segments = new Uri(url).AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments is ["hooks", var name] ? name : throw new ArgumentException($"Not an endpoint URL of this fake: {url}", nameof(url));
    }

    private static string? Header(PlatformRequest request, string name) =>
        request.Context.Request.Headers.TryGetValue(name, out var value) && value.Count > 0 ? value.ToString() : null;

    private ScriptedResponse Receive(PlatformRequest request)
    {
        var name = request.RouteValue("name");
        byte[]? key;
        lock (_state)
        {
            if (_removed.Contains(name))
            {
                return new ScriptedResponse(410, """{"error":"gone"}""", Json);
            }

            if (!_endpoints.TryGetValue(name, out key))
            {
                return new ScriptedResponse(404, """{"error":"not found"}""", Json);
            }
        }

        var id = Header(request, "webhook-id");
        var timestampText = Header(request, "webhook-timestamp");
        var signatures = Header(request, "webhook-signature");
        if (string.IsNullOrEmpty(id) || signatures is null
            || !long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return new ScriptedResponse(401, InvalidSignatureBody, Json);
        }

        var age = request.ReceivedAt - DateTimeOffset.FromUnixTimeSeconds(timestamp);
        if (age.Duration() > TimestampTolerance)
        {
            return new ScriptedResponse(401, InvalidSignatureBody, Json);
        }

        // Signed content: "{id}.{timestamp}.{raw body}", bytes exactly as received.
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestampText}.");
        var expected = HMACSHA256.HashData(key, prefix.Concat(request.RawBody).ToArray());
        if (!AnySignatureMatches(signatures, expected))
        {
            return new ScriptedResponse(401, InvalidSignatureBody, Json);
        }

        lock (_state)
        {
            _deliveries.Add(new WebhookDelivery(name, id, timestamp, request.Body, request.ReceivedAt));
        }

        return new ScriptedResponse(200, """{"received":true}""", Json);
    }

    // Space-separated "version,signature" pairs (several while a secret is rotated); only v1 is HMAC-SHA256.
    private static bool AnySignatureMatches(string header, byte[] expected)
    {
        var matched = false;
        foreach (var entry in header.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = entry.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || entry[..comma] != "v1")
            {
                continue;
            }

            var candidate = new byte[expected.Length + 3];
            if (Convert.TryFromBase64String(entry[(comma + 1)..], candidate, out var written) && written == expected.Length)
            {
                matched |= CryptographicOperations.FixedTimeEquals(candidate.AsSpan(0, written), expected);
            }
        }

        return matched;
    }
}
