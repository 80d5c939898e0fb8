using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dovecote.Tests.Fakes;

public sealed class FakeWebhookReceiverTests
{
    private static async Task<FakeWebhookReceiver> StartAsync()
    {
        var receiver = new FakeWebhookReceiver();
        await receiver.StartAsync();
        return receiver;
    }

    // Independent of the fake: Standard Webhooks v1 = base64(HMAC-SHA256(base64-decoded secret, "{id}.{ts}.{body}")).
    private static string Sign(string secret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
    }

    private static Task<HttpResponseMessage> DeliverAsync(string url, string body, string? id, long? timestamp, string? signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (id is not null)
        {
            request.Headers.Add("webhook-id", id);
        }

        if (timestamp is not null)
        {
            request.Headers.Add("webhook-timestamp", timestamp.Value.ToString(CultureInfo.InvariantCulture));
        }

        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("webhook-signature", signature);
        }

        return FakeHttp.Client.SendAsync(request, FakeHttp.Ct);
    }

    [Fact]
    public async Task ValidSignaturesAreAcceptedIncludingDuringKeyRotation()
    {
        await using var receiver = await StartAsync();
        var (url, secret) = receiver.CreateEndpoint();
        var (_, otherSecret) = receiver.CreateEndpoint();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        const string Body = """{"type":"message.sent","timestamp":"2026-11-22T10:00:00Z","data":{"id":"m1"}}""";

        using var accepted = await DeliverAsync(url, Body, "msg_1", now, Sign(secret, "msg_1", now, Body));
        using var rotated = await DeliverAsync(url, Body, "msg_2", now,
            Sign(otherSecret, "msg_2", now, Body) + " v1a,bm90LWVkMjU1MTk= " + Sign(secret, "msg_2", now, Body));

        Assert.Matches(@"^http://127\.0\.0\.1:\d+/hooks/[A-Za-z0-9-]+$", url);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        await FakeHttp.AssertJsonAsync(accepted, 200, """{"received":true}""");
        await FakeHttp.AssertJsonAsync(rotated, 200, """{"received":true}""");
        var delivery = receiver.Deliveries[0];
        Assert.Equal((url.Split('/')[^1], "msg_1", now, Body), (delivery.EndpointName, delivery.WebhookId, delivery.Timestamp, delivery.Body));
        Assert.Equal(2, receiver.Deliveries.Count);
    }

    [Fact]
    public async Task TamperedStaleOrUnsignedDeliveriesAreRejected()
    {
        await using var receiver = await StartAsync();
        var (url, secret) = receiver.CreateEndpoint();
        var (_, wrongSecret) = receiver.CreateEndpoint();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var old = now - 6 * 60;
        var future = now + 6 * 60;
        const string Body = """{"data":1}""";
        const string Rejected = """{"error":"invalid signature"}""";

        HttpResponseMessage[] responses =
        [
            await DeliverAsync(url, """{"data":2}""", "a", now, Sign(secret, "a", now, Body)),
            await DeliverAsync(url, Body, "b", now, Sign(wrongSecret, "b", now, Body)),
            await DeliverAsync(url, Body, "c", old, Sign(secret, "c", old, Body)),
            await DeliverAsync(url, Body, "d", future, Sign(secret, "d", future, Body)),
            await DeliverAsync(url, Body, "e", now, Sign(secret, "other-id", now, Body)),
            await DeliverAsync(url, Body, null, now, Sign(secret, "", now, Body)),
            await DeliverAsync(url, Body, "f", null, Sign(secret, "f", now, Body)),
            await DeliverAsync(url, Body, "g", now, null),
            await DeliverAsync(url, Body, "h", now, "v1,not-base64!"),
        ];

        foreach (var response in responses)
        {
            await FakeHttp.AssertJsonAsync(response, 401, Rejected);
            response.Dispose();
        }

        Assert.Empty(receiver.Deliveries);
        Assert.Equal(9, receiver.Requests.Count(r => r.StatusCode == 401));
    }

    [Fact]
    public async Task UnknownEndpointsAre404AndRemovedOnes410()
    {
        await using var receiver = await StartAsync();
        var (url, secret) = receiver.CreateEndpoint();
        receiver.RemoveEndpoint(url);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using var removed = await DeliverAsync(url, "{}", "a", now, Sign(secret, "a", now, "{}"));
        using var unknown = await DeliverAsync(receiver.BaseUrl + "/hooks/nobody", "{}", "a", now, Sign(secret, "a", now, "{}"));

        Assert.Equal(410, (int)removed.StatusCode);
        Assert.Equal(404, (int)unknown.StatusCode);
        Assert.Empty(receiver.Deliveries);
    }

    [Fact]
    public async Task ScriptedHelpersAndDown()
    {
        await using var receiver = await StartAsync();
        var (url, secret) = receiver.CreateEndpoint();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        receiver.Script(FakeWebhookReceiver.RateLimited(30), FakeWebhookReceiver.ServerError());

        using var limited = await DeliverAsync(url, "{}", "a", now, Sign(secret, "a", now, "{}"));
        using var failed = await DeliverAsync(url, "{}", "a", now, Sign(secret, "a", now, "{}"));
        receiver.Down = true;
        using var down = await DeliverAsync(url, "{}", "a", now, Sign(secret, "a", now, "{}"));

        Assert.Equal(429, (int)limited.StatusCode);
        Assert.Equal("30", FakeHttp.Header(limited, "Retry-After"));
        Assert.Equal(500, (int)failed.StatusCode);
        Assert.Equal(503, (int)down.StatusCode);
        Assert.Empty(receiver.Deliveries);
    }
}
