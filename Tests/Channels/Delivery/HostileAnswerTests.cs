using System.Text;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Tests.Fakes;

namespace Dovecote.Tests.Channels.Delivery;

/// <summary>
/// "Garbage from destinations": each test scripts one hostile answer on a platform fake and sends through
/// the real sender. Every answer must classify as an outcome (never an exception), by the platform's rules
/// where they still apply and by status code where the body is garbage.
/// </summary>
public sealed class HostileAnswerTests(SenderTestRig rig) : IClassFixture<SenderTestRig>
{
    private const string Json = "application/json";
    private const long TenMegabytes = 10L * 1024 * 1024;
    private static readonly TimeSpan DefaultPause = TimeSpan.FromSeconds(1);

    private static IReadOnlyDictionary<string, string> Headers(params (string Name, string Value)[] headers) =>
        headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase);

    private static string TelegramRateLimited(string retryAfterJson) =>
        $$$"""{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":{{{retryAfterJson}}}}}""";

    public static TheoryData<string, double?> TelegramRetryAfters => new()
    {
        { "1e300", null }, // null: the ceiling
        { "1e400", null },
        { "-5", 1 },
        { "\"soon\"", 1 },
        { "\"NaN\"", 1 },
        { "null", 1 },
        { "{}", 1 },
        { "2.5", 2.5 },
    };

    [Theory]
    [MemberData(nameof(TelegramRetryAfters))]
    public async Task Telegram_429_with_a_hostile_retry_after_pauses_for_the_default_or_the_ceiling(string retryAfter, double? expectedSeconds)
    {
        rig.Telegram.Script(new ScriptedResponse(429, TelegramRateLimited(retryAfter), Json, Headers(("Retry-After", "NaN"))));

        var outcome = await rig.SendAsync(ChannelType.Telegram);

        Assert.Equal(OutcomeKind.RateLimited, outcome.Kind);
        Assert.Equal(expectedSeconds is { } s ? TimeSpan.FromSeconds(s) : RetryAfter.Ceiling, outcome.RetryAfter);
    }

    public static TheoryData<string?, string?, string, double?> DiscordRateLimits => new()
    {
        // Retry-After header, X-RateLimit-Reset-After header, body retry_after; expected pause (null: the ceiling).
        { null, "NaN", "null", 1 },
        { null, "Infinity", "null", 1 },
        { null, "1e300", "null", 1 },
        { null, "-5", "-5", 1 },
        { "NaN", "NaN", "\"NaN\"", 1 },
        { "soon", "later", "\"soon\"", 1 },
        { null, null, "1e300", null },
        { "99999999999", null, "null", null },
        { "3", "2.5", "2.75", 3 },
    };

    [Theory]
    [MemberData(nameof(DiscordRateLimits))]
    public async Task Discord_429_with_hostile_waits_takes_the_longest_sane_one(
        string? retryAfter,
        string? resetAfter,
        string bodyRetryAfter,
        double? expectedSeconds)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["X-RateLimit-Limit"] = "5", ["X-RateLimit-Remaining"] = "0" };
        if (retryAfter is not null) headers["Retry-After"] = retryAfter;
        if (resetAfter is not null) headers["X-RateLimit-Reset-After"] = resetAfter;
        rig.Discord.Script(new ScriptedResponse(
            429,
            $$"""{"message":"You are being rate limited.","retry_after":{{bodyRetryAfter}},"global":false}""",
            Json,
            headers));

        var outcome = await rig.SendAsync(ChannelType.Discord);

        Assert.Equal(OutcomeKind.RateLimited, outcome.Kind);
        Assert.Equal(expectedSeconds is { } s ? TimeSpan.FromSeconds(s) : RetryAfter.Ceiling, outcome.RetryAfter);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e300")]
    [InlineData("-5")]
    public async Task Discord_success_with_an_exhausted_bucket_and_a_hostile_reset_after_is_delivered_without_a_pause(string resetAfter)
    {
        rig.Discord.Script(new ScriptedResponse(200, """{"id":"1234567890123456789"}""", Json,
            Headers(("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset-After", resetAfter))));

        var outcome = await rig.SendAsync(ChannelType.Discord);

        Assert.Equal(OutcomeKind.Delivered, outcome.Kind);
        Assert.Equal("1234567890123456789", outcome.MessageId);
        Assert.Null(outcome.RetryAfter);
    }

    [Theory]
    [InlineData("NaN", 1.0)]
    [InlineData("Infinity", 1.0)]
    [InlineData("1e300", 1.0)]
    [InlineData("-5", 1.0)]
    [InlineData("in a while", 1.0)]
    [InlineData("Fri, 31 Dec 9999 23:59:59 GMT", null)]
    [InlineData("99999999999", null)]
    [InlineData("4", 4.0)]
    public async Task Slack_429_with_a_hostile_retry_after_pauses_for_the_default_or_the_ceiling(string retryAfter, double? expectedSeconds)
    {
        rig.Slack.Script(new ScriptedResponse(429, "rate_limited", "text/plain", Headers(("Retry-After", retryAfter))));

        var outcome = await rig.SendAsync(ChannelType.Slack);

        Assert.Equal(OutcomeKind.RateLimited, outcome.Kind);
        Assert.Equal(expectedSeconds is { } s ? TimeSpan.FromSeconds(s) : RetryAfter.Ceiling, outcome.RetryAfter);
    }

    [Theory]
    [InlineData(429, "NaN")]
    [InlineData(429, "-5")]
    [InlineData(503, "1e300")]
    [InlineData(503, "Infinity")]
    public async Task Webhook_throttle_with_a_hostile_retry_after_is_an_ordinary_retry(int status, string retryAfter)
    {
        rig.Webhooks.Script(new ScriptedResponse(status, """{"error":"slow down"}""", Json, Headers(("Retry-After", retryAfter))));

        var outcome = await rig.SendAsync(ChannelType.Webhook);

        Assert.Equal(OutcomeKind.Retryable, outcome.Kind);
        Assert.Null(outcome.RetryAfter);
    }

    [Fact]
    public async Task Webhook_throttle_with_a_huge_retry_after_is_cut_to_the_ceiling()
    {
        rig.Webhooks.Script(new ScriptedResponse(429, "", Json, Headers(("Retry-After", "99999999999999999999"))));

        var outcome = await rig.SendAsync(ChannelType.Webhook);

        Assert.Equal(OutcomeKind.RateLimited, outcome.Kind);
        Assert.Equal(RetryAfter.Ceiling, outcome.RetryAfter);
    }

    public static TheoryData<string> GarbageBodies => new()
    {
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
        """[{"ok":true,"result":{"message_id":1},"id":"1"}]""",
        new string('[', 50_000) + new string(']', 50_000),
        string.Concat(Enumerable.Repeat("""{"ok":""", 20_000)) + "true" + new string('}', 20_000),
        """{"ok":false,"error_code":1e400,"description":"\ud800","message":"\udfff","code":1e400,"id":"\ud800","parameters":{"retry_after":1e400,"migrate_to_chat_id":1e400}}""",
        """{"ok":""",
        "{\"description\":\"" + new string('x', 20_000) + "€\"}",
        "\0\u0001\u0002\uFFFD",
        "",
    };

    /// <summary>One answer a status code, each with the same JSON-labelled body.</summary>
    private static ScriptedResponse[] SameBodyAnswers(string body, params int[] statusCodes) =>
        [.. statusCodes.Select(status => new ScriptedResponse(status, body, Json))];

    [Theory]
    [MemberData(nameof(GarbageBodies))]
    public async Task Telegram_garbage_is_classified_by_status_code(string body)
    {
        rig.Telegram.Script(SameBodyAnswers(body, 200, 400, 401, 429, 500));

        // A 2xx without "ok": true is not the Bot API's acceptance: retry rather than lose the message.
        Assert.Equal(OutcomeKind.Retryable, (await rig.SendAsync(ChannelType.Telegram)).Kind);
        Assert.Equal(OutcomeKind.Rejected, (await rig.SendAsync(ChannelType.Telegram)).Kind);
        var unauthorized = await rig.SendAsync(ChannelType.Telegram);
        Assert.Equal(OutcomeKind.DeadDestination, unauthorized.Kind);
        Assert.True(unauthorized.DisableChannel);
        var limited = await rig.SendAsync(ChannelType.Telegram);
        Assert.Equal(OutcomeKind.RateLimited, limited.Kind);
        Assert.True(limited.RetryAfter is { } wait && wait >= TimeSpan.Zero && wait <= RetryAfter.Ceiling);
        Assert.Equal(OutcomeKind.Retryable, (await rig.SendAsync(ChannelType.Telegram)).Kind);
    }

    [Theory]
    [MemberData(nameof(GarbageBodies))]
    public async Task Discord_garbage_is_classified_by_status_code(string body)
    {
        rig.Discord.Script(SameBodyAnswers(body, 200, 400, 404, 429, 502));

        var delivered = await rig.SendAsync(ChannelType.Discord);
        Assert.Equal(OutcomeKind.Delivered, delivered.Kind);
        Assert.True(delivered.MessageId is null or "1");
        Assert.Equal(OutcomeKind.Rejected, (await rig.SendAsync(ChannelType.Discord)).Kind);
        Assert.Equal(OutcomeKind.DeadDestination, (await rig.SendAsync(ChannelType.Discord)).Kind);
        var limited = await rig.SendAsync(ChannelType.Discord);
        Assert.Equal(OutcomeKind.RateLimited, limited.Kind);
        Assert.Equal(DefaultPause, limited.RetryAfter);
        Assert.Equal(OutcomeKind.Retryable, (await rig.SendAsync(ChannelType.Discord)).Kind);
    }

    [Fact]
    public async Task A_long_telegram_success_cut_at_the_read_bound_is_still_a_success_with_its_receipt()
    {
        // The Bot API echoes the text, escaping non-ASCII: a 4096-character Cyrillic message answers with ~25 KB.
        var text = string.Concat(Enumerable.Repeat("\\u041f", 4096));
        var body = $$$"""{"ok":true,"result":{"message_id":4242,"from":{"id":1,"is_bot":true},"chat":{"id":42,"type":"private"},"date":1764590400,"text":"{{{text}}}"}}""";
        Assert.True(body.Length > DeliveryHttp.MaxBodyBytes);
        rig.Telegram.Script(new ScriptedResponse(200, body, Json));

        var outcome = await rig.SendAsync(ChannelType.Telegram);

        Assert.Equal(OutcomeKind.Delivered, outcome.Kind);
        Assert.Equal("4242", outcome.MessageId);
    }

    [Fact]
    public async Task A_multibyte_character_cut_at_the_read_bound_does_not_throw()
    {
        // '€' is three bytes in UTF-8; put one across the 16 KiB bound.
        var prefix = """{"message":" """;
        var body = prefix + new string('x', DeliveryHttp.MaxBodyBytes - prefix.Length - 1) + "€€€\"}";
        rig.Discord.Script(new ScriptedResponse(400, body, Json));

        var outcome = await rig.SendAsync(ChannelType.Discord);

        Assert.Equal(OutcomeKind.Rejected, outcome.Kind);
        Assert.Equal("discord 400: HTTP 400", outcome.Error); // the message never ended within the bound
    }

    [Fact]
    public async Task A_destination_cannot_grow_channel_state_through_its_error_text_or_receipt()
    {
        var huge = new string('x', 10_000);
        rig.Discord.Script(
            new ScriptedResponse(400, $$"""{"message":"{{huge}}","code":50035}""", Json),
            new ScriptedResponse(200, $$"""{"id":"{{huge}}"}""", Json));

        var rejected = await rig.SendAsync(ChannelType.Discord);
        var delivered = await rig.SendAsync(ChannelType.Discord);

        Assert.Equal(OutcomeKind.Rejected, rejected.Kind);
        Assert.StartsWith("discord 400: xxx", rejected.Error);
        Assert.Equal(SendOutcome.MaxErrorLength, rejected.Error!.Length);
        Assert.Equal(OutcomeKind.Delivered, delivered.Kind);
        Assert.Null(delivered.MessageId);
    }

    public static TheoryData<ChannelType, string, OutcomeKind> HugeBodies => new()
    {
        { ChannelType.Telegram, """{"ok":true,"result":{"message_id":31337}}""", OutcomeKind.Delivered },
        { ChannelType.Discord, """{"id":"31337"}""", OutcomeKind.Delivered },
        { ChannelType.Slack, "ok", OutcomeKind.Delivered },
        { ChannelType.Webhook, """{"received":true}""", OutcomeKind.Delivered },
        { ChannelType.Discord, """{"message":"500: Internal Server Error","code":0}""", OutcomeKind.Retryable },
    };

    [Theory]
    [MemberData(nameof(HugeBodies))]
    public async Task A_ten_megabyte_answer_is_not_read_past_the_bound(ChannelType type, string head, OutcomeKind expected)
    {
        var fake = rig.Fake(type);
        var before = fake.StreamedBodies.Count;
        var status = expected == OutcomeKind.Delivered ? 200 : 500;
        fake.Script(new ScriptedResponse(status, head, type == ChannelType.Slack ? "text/plain" : Json, PadBodyTo: TenMegabytes));

        var outcome = await rig.SendAsync(type);

        Assert.Equal(expected, outcome.Kind);
        if (type is ChannelType.Telegram or ChannelType.Discord && expected == OutcomeKind.Delivered) Assert.Equal("31337", outcome.MessageId);
        // The sender pulled at most its 16 KiB and then closed the connection: the fake could not hand over the rest.
        Assert.InRange(rig.BodyBytesRead, Encoding.UTF8.GetByteCount(head), DeliveryHttp.MaxBodyBytes);
        await fake.WaitUntilAsync(() => fake.StreamedBodies.Count > before, because: "the fake finishes or abandons the body");
        var streamed = fake.StreamedBodies[before];
        Assert.False(streamed.Completed, $"the client read all {streamed.Written} bytes");
        Assert.True(streamed.Written < TenMegabytes);
    }
}
