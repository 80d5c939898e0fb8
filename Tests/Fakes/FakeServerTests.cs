using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dovecote.Tests.Fakes;

/// <summary>Plain-HttpClient helpers shared by the fake checks below.</summary>
internal static class FakeHttp
{
    public static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Task<HttpResponseMessage> PostJsonAsync(string url, string json) =>
        Client.PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    public static Task<HttpResponseMessage> PostJsonAsync(string url, object payload) =>
        PostJsonAsync(url, JsonSerializer.Serialize(payload));

    public static Task<string> BodyAsync(HttpResponseMessage response) => response.Content.ReadAsStringAsync(Ct);

    public static async Task<JsonNode> JsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await BodyAsync(response)) ?? throw new InvalidOperationException("null JSON");

    public static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : throw new Xunit.Sdk.XunitException($"missing header {name}");

    /// <summary>Asserts status and a JSON body equal to <paramref name="expectedJson"/> (structure, not spacing).</summary>
    public static async Task AssertJsonAsync(HttpResponseMessage response, int status, string expectedJson)
    {
        var body = await BodyAsync(response);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        if (!JsonNode.DeepEquals(JsonNode.Parse(expectedJson), JsonNode.Parse(body)))
        {
            Assert.Equal(expectedJson, body);
        }
    }

    /// <summary>Asserts status and Slack's plain-text body.</summary>
    public static async Task AssertTextAsync(HttpResponseMessage response, int status, string expected)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(expected, await BodyAsync(response));
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }
}

public sealed class FakePlatformServerTests
{
    [Fact]
    public async Task ScriptedResponsesAreConsumedInOrderThenNormalHandlingResumes()
    {
        await using var slack = new FakeSlackServer();
        await slack.StartAsync();
        var hook = slack.CreateWebhook();
        slack.Script(FakeSlackServer.RateLimited(3), FakeSlackServer.ServerError());
        Assert.Equal(2, slack.PendingScriptedResponses);

        var first = await FakeHttp.PostJsonAsync(hook, new { text = "one" });
        var second = await FakeHttp.PostJsonAsync(hook, new { text = "two" });
        var third = await FakeHttp.PostJsonAsync(hook, new { text = "three" });

        await FakeHttp.AssertTextAsync(first, 429, "rate_limited");
        Assert.Equal("3", FakeHttp.Header(first, "Retry-After"));
        await FakeHttp.AssertTextAsync(second, 500, "rollup_error");
        await FakeHttp.AssertTextAsync(third, 200, "ok");
        Assert.Equal(0, slack.PendingScriptedResponses);
        Assert.Equal(["three"], slack.Messages.Select(m => m.Text));
        Assert.Equal([429, 500, 200], slack.Requests.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task EveryRequestIsRecordedWithMethodPathQueryHeadersBodyAndStatus()
    {
        await using var telegram = new FakeTelegramServer();
        await telegram.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, telegram.BaseUrl + "/bot1:bad/getMe?x=1")
        {
            Content = new StringContent("{\"a\":1}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Probe", "yes");
        using var response = await FakeHttp.Client.SendAsync(request, FakeHttp.Ct);

        var recorded = Assert.Single(telegram.Requests);
        Assert.Equal("POST", recorded.Method);
        Assert.Equal("/bot1:bad/getMe", recorded.Path);
        Assert.Equal("?x=1", recorded.QueryString);
        Assert.Equal("yes", recorded.Headers["x-probe"]);
        Assert.Equal("{\"a\":1}", recorded.Body);
        Assert.Equal(401, recorded.StatusCode);
        Assert.True(DateTimeOffset.UtcNow - recorded.ReceivedAt < TimeSpan.FromSeconds(10));
        Assert.StartsWith("http://127.0.0.1:", telegram.BaseUrl, StringComparison.Ordinal);
        Assert.False(telegram.BaseUrl.EndsWith('/'));
    }

    [Fact]
    public async Task WaitUntilCompletesAsSoonAsTheConditionHolds()
    {
        await using var slack = new FakeSlackServer();
        await slack.StartAsync();
        var hook = slack.CreateWebhook();

        var waiting = slack.WaitUntilAsync(() => slack.Messages.Count == 2, TimeSpan.FromSeconds(5), "two messages");
        Assert.False(waiting.IsCompleted);
        (await FakeHttp.PostJsonAsync(hook, new { text = "a" })).Dispose();
        (await FakeHttp.PostJsonAsync(hook, new { text = "b" })).Dispose();

        await waiting;
    }

    [Fact]
    public async Task WaitUntilTimesOutWithAnExplanation()
    {
        await using var telegram = new FakeTelegramServer();
        await telegram.StartAsync();
        (await FakeHttp.Client.GetAsync(telegram.BaseUrl + "/bot123:abcdef/sendMessage?chat_id=1&text=hi", FakeHttp.Ct)).Dispose();
        (await FakeHttp.Client.GetAsync(telegram.BaseUrl + "/bot123:abcdef/nope", FakeHttp.Ct)).Dispose();

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            telegram.WaitUntilAsync(() => telegram.Messages.Count == 5, TimeSpan.FromMilliseconds(200), "five messages should reach chat 1"));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(5));
        Assert.Contains("five messages should reach chat 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("received 2 request(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("1× 200", error.Message, StringComparison.Ordinal);
        Assert.Contains("1× 404", error.Message, StringComparison.Ordinal);
        Assert.Contains("/bot123:abcdef/nope", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DelayedScriptedResponseHonoursClientTimeoutAndDisposeDoesNotHang()
    {
        var discord = new FakeDiscordServer();
        await discord.StartAsync();
        var hook = discord.CreateWebhook();
        discord.Script(FakeDiscordServer.ServerError() with { Delay = TimeSpan.FromMilliseconds(150) });
        discord.Script(new ScriptedResponse(204, string.Empty, Delay: TimeSpan.FromSeconds(30)));
        discord.Script(new ScriptedResponse(204, string.Empty, Delay: TimeSpan.FromSeconds(30)));

        // A short delay is waited out.
        var clock = Stopwatch.StartNew();
        using (var slow = await FakeHttp.PostJsonAsync(hook, new { content = "slow" }))
        {
            Assert.Equal(500, (int)slow.StatusCode);
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(140), $"answered after {clock.Elapsed}");
        }

        // A client that gives up is recorded as 499 once the server notices.
        using var impatient = new HttpClient { Timeout = TimeSpan.FromMilliseconds(200) };
        await Assert.ThrowsAnyAsync<TaskCanceledException>(() =>
            impatient.PostAsync(hook, new StringContent("{\"content\":\"x\"}", Encoding.UTF8, "application/json"), FakeHttp.Ct));
        await discord.WaitUntilAsync(() => discord.Requests.Any(r => r.StatusCode == FakePlatformServer.ClientClosedRequest), TimeSpan.FromSeconds(5), "the aborted request is recorded");

        // A request still held when the fake is disposed is cut off promptly.
        var pending = FakeHttp.PostJsonAsync(hook, new { content = "held" });
        await discord.WaitUntilAsync(() => discord.PendingScriptedResponses == 0, TimeSpan.FromSeconds(5), "the held request arrived");
        clock.Restart();
        await discord.DisposeAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"dispose took {clock.Elapsed}");
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => pending);
        Assert.Empty(discord.Messages);
    }
}

public sealed class FakeTelegramServerTests
{
    private const string Token = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    private static async Task<FakeTelegramServer> StartAsync()
    {
        var telegram = new FakeTelegramServer();
        await telegram.StartAsync();
        return telegram;
    }

    private static Task<HttpResponseMessage> SendAsync(FakeTelegramServer telegram, object payload, string token = Token) =>
        FakeHttp.PostJsonAsync($"{telegram.BaseUrl}/bot{token}/sendMessage", payload);

    private static Task<HttpResponseMessage> SendHtmlAsync(FakeTelegramServer telegram, string html) =>
        SendAsync(telegram, new { chat_id = 42, text = html, parse_mode = "HTML" });

    [Fact]
    public async Task SendMessageReturnsTheMessageEnvelopeWithPerChatIncreasingIds()
    {
        await using var telegram = await StartAsync();

        using var first = await SendAsync(telegram, new { chat_id = 42, text = "hello", disable_notification = true, message_thread_id = 7 });
        using var second = await SendAsync(telegram, new { chat_id = "42", text = "again" });
        using var group = await SendAsync(telegram, new { chat_id = -1001234567890, text = "group" });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = await FakeHttp.JsonAsync(first);
        Assert.True(body["ok"]!.GetValue<bool>());
        var result = body["result"]!;
        Assert.Equal(1, result["message_id"]!.GetValue<long>());
        Assert.Equal(42, result["chat"]!["id"]!.GetValue<long>());
        Assert.Equal("private", result["chat"]!["type"]!.GetValue<string>());
        Assert.Equal("hello", result["text"]!.GetValue<string>());
        Assert.Equal(7, result["message_thread_id"]!.GetValue<long>());
        Assert.InRange(result["date"]!.GetValue<long>(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal(2, (await FakeHttp.JsonAsync(second))["result"]!["message_id"]!.GetValue<long>());
        var groupResult = (await FakeHttp.JsonAsync(group))["result"]!;
        Assert.Equal(1, groupResult["message_id"]!.GetValue<long>());
        Assert.Equal("supergroup", groupResult["chat"]!["type"]!.GetValue<string>());

        var messages = telegram.Messages;
        Assert.Equal(3, messages.Count);
        Assert.Equal(new TelegramMessage(Token, "42", "hello", null, true, 7, 1, messages[0].ReceivedAt), messages[0]);
        Assert.False(messages[1].DisableNotification);
        Assert.Equal("-1001234567890", messages[2].ChatId);
    }

    [Fact]
    public async Task ConcurrentSendsGetDistinctIncreasingIdsAndAreAllRecorded()
    {
        await using var telegram = await StartAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => SendAsync(telegram, new { chat_id = 9, text = $"m{i}" })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), telegram.Messages.Select(m => m.MessageId).Order());
        Assert.Equal(20, telegram.Requests.Count);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task FormBodyQueryStringGetAndAnyMethodCaseAreAccepted()
    {
        await using var telegram = await StartAsync();

        using var form = await FakeHttp.Client.PostAsync($"{telegram.BaseUrl}/bot{Token}/sendmessage",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["chat_id"] = "@news", ["text"] = "<b>x</b>", ["parse_mode"] = "HTML" }), FakeHttp.Ct);
        using var query = await FakeHttp.Client.GetAsync($"{telegram.BaseUrl}/bot{Token}/SENDMESSAGE?chat_id=5&text=q", FakeHttp.Ct);

        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.Equal("x", (await FakeHttp.JsonAsync(form))["result"]!["text"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        Assert.Equal(["@news", "5"], telegram.Messages.Select(m => m.ChatId));
        Assert.Equal("HTML", telegram.Messages[0].ParseMode);
        Assert.Equal("<b>x</b>", telegram.Messages[0].Text);
    }

    [Fact]
    public async Task UnknownMethodsAndPathsGetTheNotFoundEnvelope()
    {
        await using var telegram = await StartAsync();

        using var method = await FakeHttp.Client.GetAsync($"{telegram.BaseUrl}/bot{Token}/getMe", FakeHttp.Ct);
        using var path = await FakeHttp.Client.GetAsync($"{telegram.BaseUrl}/elsewhere", FakeHttp.Ct);

        await FakeHttp.AssertJsonAsync(method, 404, """{"ok":false,"error_code":404,"description":"Not Found"}""");
        await FakeHttp.AssertJsonAsync(path, 404, """{"ok":false,"error_code":404,"description":"Not Found"}""");
    }

    [Fact]
    public async Task MalformedOrUnknownTokensAreUnauthorized()
    {
        await using var telegram = await StartAsync();
        const string Unauthorized = """{"ok":false,"error_code":401,"description":"Unauthorized"}""";

        using var malformed = await SendAsync(telegram, new { chat_id = 1, text = "x" }, token: "not-a-token");
        await FakeHttp.AssertJsonAsync(malformed, 401, Unauthorized);

        telegram.ValidTokens = new HashSet<string> { Token };
        using var other = await SendAsync(telegram, new { chat_id = 1, text = "x" }, token: "999:OtherTokenValue");
        using var valid = await SendAsync(telegram, new { chat_id = 1, text = "x" });
        await FakeHttp.AssertJsonAsync(other, 401, Unauthorized);
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    public async Task ChatErrorsMatchTheBotApi()
    {
        await using var telegram = await StartAsync();
        telegram.KnownChats = new HashSet<string> { "42", "-100777" };
        telegram.BlockedChats.Add("42");
        telegram.MigratedChats["-555"] = -1001234567890123;

        using var missing = await SendAsync(telegram, new { text = "x" });
        using var unknown = await SendAsync(telegram, new { chat_id = 43, text = "x" });
        using var blocked = await SendAsync(telegram, new { chat_id = 42, text = "x" });
        using var migrated = await SendAsync(telegram, new { chat_id = -555, text = "x" });
        using var emptyText = await SendAsync(telegram, new { chat_id = -100777, text = "" });
        using var delivered = await SendAsync(telegram, new { chat_id = -100777, text = "ok" });

        await FakeHttp.AssertJsonAsync(missing, 400, """{"ok":false,"error_code":400,"description":"Bad Request: chat_id is empty"}""");
        await FakeHttp.AssertJsonAsync(unknown, 400, """{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}""");
        await FakeHttp.AssertJsonAsync(blocked, 403, """{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}""");
        await FakeHttp.AssertJsonAsync(migrated, 400,
            """{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890123}}""");
        await FakeHttp.AssertJsonAsync(emptyText, 400, """{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}""");
        Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        Assert.Equal("supergroup", (await FakeHttp.JsonAsync(delivered))["result"]!["chat"]!["type"]!.GetValue<string>());
        Assert.Single(telegram.Messages);
    }

    [Theory]
    [InlineData("<b>bold <i>and <u>nested</u></i></b> <a href=\"https://example.com/?a=1&b=2\">link</a>", "bold and nested link")]
    [InlineData("<strong>s</strong><em>e</em><ins>i</ins><s>x</s><strike>y</strike><del>z</del><span class=\"tg-spoiler\">p</span><tg-spoiler>q</tg-spoiler>", "seixyzpq")]
    [InlineData("<pre><code class=\"language-csharp\">var x = 1 &lt; 2;</code></pre>", "var x = 1 < 2;")]
    [InlineData("<blockquote expandable>quote</blockquote><blockquote>plain</blockquote>", "quoteplain")]
    [InlineData("<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji>", "👍")]
    [InlineData("a &amp; b &lt;c&gt; &quot;d&quot; &#65;&#x42; &gt", "a & b <c> \"d\" AB >")]
    [InlineData("<B>upper</B> 1 > 0", "upper 1 > 0")]
    public async Task ValidHtmlIsAcceptedAndTheResultCarriesTheVisibleText(string html, string visible)
    {
        await using var telegram = await StartAsync();

        using var response = await SendHtmlAsync(telegram, html);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(visible, (await FakeHttp.JsonAsync(response))["result"]!["text"]!.GetValue<string>());
        Assert.Equal(html, Assert.Single(telegram.Messages).Text);
    }

    [Theory]
    [InlineData("hi <script>alert(1)</script>", "Unsupported start tag \"script\" at byte offset 3")]
    [InlineData("é<p>x</p>", "Unsupported start tag \"p\" at byte offset 2")]
    [InlineData("a < b", "Unsupported start tag \"\" at byte offset 2")]
    [InlineData("a & b", "Character \"&\" must be escaped as \"&amp;\" at byte offset 2")]
    [InlineData("&nbsp;", "Character \"&\" must be escaped as \"&amp;\" at byte offset 0")]
    [InlineData("<b>open", "Can't find end tag corresponding to start tag \"b\"")]
    [InlineData("<b><i>x</b></i>", "Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\"")]
    [InlineData("x</b>", "Unexpected end tag at byte offset 1")]
    [InlineData("<b", "Unclosed start tag at byte offset 0")]
    [InlineData("<span>x</span>", "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0")]
    [InlineData("<a href=x\">y</a>", "Unexpected end of name token at byte offset 8")]
    [InlineData("<tg-emoji emoji-id=\"abc\">x</tg-emoji>", "Invalid custom emoji identifier specified")]
    public async Task InvalidHtmlIsRejectedWithTelegramsParseError(string html, string error)
    {
        await using var telegram = await StartAsync();

        using var response = await SendHtmlAsync(telegram, html);

        await FakeHttp.AssertJsonAsync(response, 400,
            new JsonObject { ["ok"] = false, ["error_code"] = 400, ["description"] = "Bad Request: can't parse entities: " + error }.ToJsonString());
        Assert.Empty(telegram.Messages);
    }

    [Fact]
    public async Task BareAmpersandIsKeptLiterallyWhenStrictnessIsOff()
    {
        await using var telegram = await StartAsync();
        telegram.RejectBareAmpersand = false;

        using var response = await SendHtmlAsync(telegram, "a & b &nbsp;");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a & b &nbsp;", (await FakeHttp.JsonAsync(response))["result"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task LengthIsMeasuredOnTheVisibleTextInUtf16Units()
    {
        await using var telegram = await StartAsync();
        const string TooLong = """{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}""";
        var tagged4096 = "<b>" + new string('x', 2048) + "</b><i>" + new string('y', 2047) + "&amp;</i>";
        var tagged4097 = "<b>" + new string('x', 2049) + "</b><i>" + new string('y', 2047) + "&amp;</i>";
        var entities4096 = string.Concat(Enumerable.Repeat("&lt;", 4096));
        var emoji2049 = string.Concat(Enumerable.Repeat("😀", 2049)); // 4098 UTF-16 units

        using var acceptedTags = await SendHtmlAsync(telegram, tagged4096);
        using var rejectedTags = await SendHtmlAsync(telegram, tagged4097);
        using var acceptedEntities = await SendHtmlAsync(telegram, entities4096);
        using var plain4096 = await SendAsync(telegram, new { chat_id = 1, text = new string('z', 4096) });
        using var plain4097 = await SendAsync(telegram, new { chat_id = 1, text = new string('z', 4097) });
        using var emoji = await SendAsync(telegram, new { chat_id = 1, text = emoji2049 });

        Assert.True(tagged4096.Length > 4096);
        Assert.Equal(HttpStatusCode.OK, acceptedTags.StatusCode);
        await FakeHttp.AssertJsonAsync(rejectedTags, 400, TooLong);
        Assert.Equal(HttpStatusCode.OK, acceptedEntities.StatusCode);
        Assert.Equal(HttpStatusCode.OK, plain4096.StatusCode);
        await FakeHttp.AssertJsonAsync(plain4097, 400, TooLong);
        await FakeHttp.AssertJsonAsync(emoji, 400, TooLong);
        Assert.Equal(3, telegram.Messages.Count);
    }

    [Fact]
    public async Task EnforcedPerChatLimitAnswers429WithRetryAfter()
    {
        await using var telegram = await StartAsync();
        telegram.EnforcePerChatLimit = true;

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await SendAsync(telegram, new { chat_id = 1, text = "burst" });
            statuses.Add((int)response.StatusCode);
            if (i == 3)
            {
                await FakeHttp.AssertJsonAsync(response, 429,
                    """{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}""");
                Assert.Equal("1", FakeHttp.Header(response, "Retry-After"));
            }
        }

        using var otherChat = await SendAsync(telegram, new { chat_id = 2, text = "other" });

        Assert.Equal([200, 200, 200, 429], statuses);
        Assert.Equal(HttpStatusCode.OK, otherChat.StatusCode);
    }

    [Fact]
    public async Task ScriptedHelpersAndDownAnswerLikeTheBotApi()
    {
        await using var telegram = await StartAsync();
        telegram.Script(
            FakeTelegramServer.RateLimited(17),
            FakeTelegramServer.ServerError(),
            FakeTelegramServer.ChatNotFound(),
            FakeTelegramServer.BotBlocked(),
            FakeTelegramServer.CantParseEntities(),
            FakeTelegramServer.MessageTooLong(),
            FakeTelegramServer.Migrated(-1009876543210));
        var expected = new (int Status, string Body)[]
        {
            (429, """{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 17","parameters":{"retry_after":17}}"""),
            (502, """{"ok":false,"error_code":502,"description":"Bad Gateway"}"""),
            (400, """{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"""),
            (403, """{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"""),
            (400, """{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""}"""),
            (400, """{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}"""),
            (400, """{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876543210}}"""),
        };

        foreach (var (status, body) in expected)
        {
            using var response = await SendAsync(telegram, new { chat_id = 1, text = "x" });
            await FakeHttp.AssertJsonAsync(response, status, body);
        }

        telegram.Down = true;
        using var down = await SendAsync(telegram, new { chat_id = 1, text = "x" });
        await FakeHttp.AssertJsonAsync(down, 502, """{"ok":false,"error_code":502,"description":"Bad Gateway"}""");
        telegram.Down = false;
        using var up = await SendAsync(telegram, new { chat_id = 1, text = "x" });
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        Assert.Single(telegram.Messages);
    }
}

public sealed class FakeDiscordServerTests
{
    private static async Task<FakeDiscordServer> StartAsync()
    {
        var discord = new FakeDiscordServer();
        await discord.StartAsync();
        return discord;
    }

    [Fact]
    public async Task ExecuteWithoutWaitAnswers204WithRateLimitHeaders()
    {
        await using var discord = await StartAsync();
        var hook = discord.CreateWebhook();

        using var response = await FakeHttp.PostJsonAsync(hook, new { content = "hi", allowed_mentions = new { parse = Array.Empty<string>() }, flags = 4096 });

        Assert.Matches(@"^http://127\.0\.0\.1:\d+/api/webhooks/\d+/[A-Za-z0-9_-]{20,}$", hook);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await FakeHttp.BodyAsync(response));
        Assert.Equal("5", FakeHttp.Header(response, "X-RateLimit-Limit"));
        Assert.Equal("4", FakeHttp.Header(response, "X-RateLimit-Remaining"));
        Assert.Matches(@"^[0-9a-f]{32}$", FakeHttp.Header(response, "X-RateLimit-Bucket"));
        Assert.Matches(@"^\d+\.\d{3}$", FakeHttp.Header(response, "X-RateLimit-Reset"));
        var resetAfter = double.Parse(FakeHttp.Header(response, "X-RateLimit-Reset-After"), CultureInfo.InvariantCulture);
        Assert.InRange(resetAfter, 1.0, 2.0);
        var reset = double.Parse(FakeHttp.Header(response, "X-RateLimit-Reset"), CultureInfo.InvariantCulture);
        Assert.InRange(reset - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, 0.5, 2.5);

        var message = Assert.Single(discord.Messages);
        Assert.Equal(hook.Split('/')[^2], message.WebhookId);
        Assert.Equal("hi", message.Content);
        Assert.Equal("""{"parse":[]}""", message.AllowedMentionsJson);
        Assert.Equal(4096, message.Flags);
    }

    [Fact]
    public async Task ExecuteWithWaitReturnsTheSavedMessage()
    {
        await using var discord = await StartAsync();
        var hook = discord.CreateWebhook();

        using var response = await FakeHttp.PostJsonAsync(hook + "?wait=true", new { content = "receipt please", username = "Dovecote" });
        using var threaded = await FakeHttp.PostJsonAsync(hook + "?wait=true&thread_id=1234567890123", new { content = "in thread" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await FakeHttp.JsonAsync(response);
        var id = body["id"]!.GetValue<string>();
        Assert.Matches(@"^\d{17,20}$", id);
        Assert.Equal(0, body["type"]!.GetValue<int>());
        Assert.Equal("receipt please", body["content"]!.GetValue<string>());
        Assert.Equal(hook.Split('/')[^2], body["webhook_id"]!.GetValue<string>());
        Assert.Matches(@"^\d+$", body["channel_id"]!.GetValue<string>());
        Assert.Equal("Dovecote", body["author"]!["username"]!.GetValue<string>());
        var timestamp = DateTimeOffset.Parse(body["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.True((DateTimeOffset.UtcNow - timestamp).Duration() < TimeSpan.FromMinutes(1));
        Assert.Equal("1234567890123", (await FakeHttp.JsonAsync(threaded))["channel_id"]!.GetValue<string>());
        Assert.Equal(id, discord.Messages[0].Id);
        Assert.True(ulong.Parse(discord.Messages[1].Id, CultureInfo.InvariantCulture) > ulong.Parse(id, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task UnknownDeletedAndWrongTokenWebhooksAreRejected()
    {
        await using var discord = await StartAsync();
        var hook = discord.CreateWebhook();
        var deleted = discord.CreateWebhook();
        discord.DeleteWebhook(deleted);
        var parts = hook.Split('/');

        using var wrongToken = await FakeHttp.PostJsonAsync(string.Join('/', parts[..^1]) + "/wrongtoken", new { content = "x" });
        using var gone = await FakeHttp.PostJsonAsync(deleted, new { content = "x" });
        using var unknown = await FakeHttp.PostJsonAsync($"{discord.BaseUrl}/api/webhooks/1/abc", new { content = "x" });

        await FakeHttp.AssertJsonAsync(wrongToken, 401, """{"message": "Invalid Webhook Token", "code": 50027}""");
        await FakeHttp.AssertJsonAsync(gone, 404, """{"message": "Unknown Webhook", "code": 10015}""");
        await FakeHttp.AssertJsonAsync(unknown, 404, """{"message": "Unknown Webhook", "code": 10015}""");
        Assert.Empty(discord.Messages);
    }

    [Fact]
    public async Task BodyErrorsMatchDiscord()
    {
        await using var discord = await StartAsync();
        var hook = discord.CreateWebhook();
        discord.EnforceRateLimit = false;

        using var invalid = await FakeHttp.PostJsonAsync(hook, "{\"content\": ");
        using var empty = await FakeHttp.PostJsonAsync(hook, new { username = "x" });
        using var blank = await FakeHttp.PostJsonAsync(hook, new { content = "  ", embeds = Array.Empty<object>() });
        using var tooLong = await FakeHttp.PostJsonAsync(hook, new { content = new string('a', 2001) });
        using var longest = await FakeHttp.PostJsonAsync(hook, new { content = new string('a', 2000) });
        using var embedOnly = await FakeHttp.PostJsonAsync(hook, new { embeds = new[] { new { description = "d" } } });

        await FakeHttp.AssertJsonAsync(invalid, 400, """{"message": "The request body contains invalid JSON.", "code": 50109}""");
        await FakeHttp.AssertJsonAsync(empty, 400, """{"message": "Cannot send an empty message", "code": 50006}""");
        await FakeHttp.AssertJsonAsync(blank, 400, """{"message": "Cannot send an empty message", "code": 50006}""");
        await FakeHttp.AssertJsonAsync(tooLong, 400,
            """{"message":"Invalid Form Body","code":50035,"errors":{"content":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 2000 or fewer in length."}]}}}""");
        Assert.Equal(HttpStatusCode.NoContent, longest.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, embedOnly.StatusCode);
        Assert.Equal("5", FakeHttp.Header(tooLong, "X-RateLimit-Limit"));
        Assert.Equal(2, discord.Messages.Count);
    }

    [Fact]
    public async Task SixthRequestWithinTwoSecondsIsRateLimited()
    {
        await using var discord = await StartAsync();
        var hook = discord.CreateWebhook();
        var other = discord.CreateWebhook();

        var remaining = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var ok = await FakeHttp.PostJsonAsync(hook, new { content = $"m{i}" });
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
            remaining.Add(FakeHttp.Header(ok, "X-RateLimit-Remaining"));
        }

        using var limited = await FakeHttp.PostJsonAsync(hook, new { content = "m5" });
        using var otherHook = await FakeHttp.PostJsonAsync(other, new { content = "separate bucket" });

        Assert.Equal(["4", "3", "2", "1", "0"], remaining);
        Assert.Equal(429, (int)limited.StatusCode);
        var body = await FakeHttp.JsonAsync(limited);
        Assert.Equal("You are being rate limited.", body["message"]!.GetValue<string>());
        Assert.False(body["global"]!.GetValue<bool>());
        var retryAfter = body["retry_after"]!.GetValue<double>();
        Assert.InRange(retryAfter, 0.001, 2.0);
        Assert.Equal(((int)Math.Ceiling(retryAfter)).ToString(CultureInfo.InvariantCulture), FakeHttp.Header(limited, "Retry-After"));
        Assert.Equal("user", FakeHttp.Header(limited, "X-RateLimit-Scope"));
        Assert.Equal("0", FakeHttp.Header(limited, "X-RateLimit-Remaining"));
        Assert.Equal(HttpStatusCode.NoContent, otherHook.StatusCode);
        Assert.Equal(6, discord.Messages.Count);
    }

    [Fact]
    public async Task RateLimitCanBeTurnedOff()
    {
        await using var discord = await StartAsync();
        discord.EnforceRateLimit = false;
        var hook = discord.CreateWebhook();

        for (var i = 0; i < 7; i++)
        {
            using var response = await FakeHttp.PostJsonAsync(hook, new { content = "x" });
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
    }

    [Fact]
    public async Task ScriptedHelpersAndDownAnswerLikeDiscord()
    {
        await using var discord = await StartAsync();
        var hook = discord.CreateWebhook();
        discord.Script(FakeDiscordServer.RateLimited(1.5), FakeDiscordServer.ServerError());

        using var limited = await FakeHttp.PostJsonAsync(hook, new { content = "x" });
        using var failed = await FakeHttp.PostJsonAsync(hook, new { content = "x" });
        discord.Down = true;
        using var down = await FakeHttp.PostJsonAsync(hook, new { content = "x" });

        await FakeHttp.AssertJsonAsync(limited, 429, """{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}""");
        Assert.Equal("2", FakeHttp.Header(limited, "Retry-After"));
        Assert.Equal("user", FakeHttp.Header(limited, "X-RateLimit-Scope"));
        Assert.Equal("1.500", FakeHttp.Header(limited, "X-RateLimit-Reset-After"));
        await FakeHttp.AssertJsonAsync(failed, 500, """{"message": "500: Internal Server Error", "code": 0}""");
        await FakeHttp.AssertJsonAsync(down, 503, """{"message": "upstream connect error", "code": 0}""");
        Assert.Empty(discord.Messages);
    }
}

public sealed class FakeSlackServerTests
{
    private static async Task<FakeSlackServer> StartAsync()
    {
        var slack = new FakeSlackServer();
        await slack.StartAsync();
        return slack;
    }

    [Fact]
    public async Task PostingTextOrBlocksAnswersOkInPlainText()
    {
        await using var slack = await StartAsync();
        var hook = slack.CreateWebhook();

        using var text = await FakeHttp.PostJsonAsync(hook, new { text = "*bold*", mrkdwn = true });
        using var blocks = await FakeHttp.PostJsonAsync(hook, new { blocks = new[] { new { type = "section", text = new { type = "mrkdwn", text = "hi" } } } });
        using var form = await FakeHttp.Client.PostAsync(hook,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["payload"] = "{\"text\":\"from form\"}" }), FakeHttp.Ct);

        Assert.Matches(@"^http://127\.0\.0\.1:\d+/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{24}$", hook);
        await FakeHttp.AssertTextAsync(text, 200, "ok");
        await FakeHttp.AssertTextAsync(blocks, 200, "ok");
        await FakeHttp.AssertTextAsync(form, 200, "ok");
        var messages = slack.Messages;
        Assert.Equal(new Uri(hook).AbsolutePath, messages[0].WebhookPath);
        Assert.Equal(("*bold*", (bool?)true, (string?)null), (messages[0].Text, messages[0].Mrkdwn, messages[0].BlocksJson));
        Assert.Equal("", messages[1].Text);
        Assert.Equal("""[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]""", messages[1].BlocksJson);
        Assert.Equal("from form", messages[2].Text);
    }

    [Fact]
    public async Task PayloadErrorsArePlainTextCodes()
    {
        await using var slack = await StartAsync();
        var hook = slack.CreateWebhook();

        using var invalid = await FakeHttp.PostJsonAsync(hook, "not json");
        using var noText = await FakeHttp.PostJsonAsync(hook, new { mrkdwn = true });
        using var emptyText = await FakeHttp.PostJsonAsync(hook, new { text = "" });

        await FakeHttp.AssertTextAsync(invalid, 400, "invalid_payload");
        await FakeHttp.AssertTextAsync(noText, 400, "no_text");
        await FakeHttp.AssertTextAsync(emptyText, 400, "no_text");
        Assert.Empty(slack.Messages);
    }

    [Fact]
    public async Task RevokedArchivedAndUnknownWebhooks()
    {
        await using var slack = await StartAsync();
        var revoked = slack.CreateWebhook();
        var archived = slack.CreateWebhook();
        slack.RevokeWebhook(revoked);
        slack.ArchiveWebhook(archived);

        using var revokedResponse = await FakeHttp.PostJsonAsync(revoked, new { text = "x" });
        using var archivedResponse = await FakeHttp.PostJsonAsync(archived, new { text = "x" });
        using var unknown = await FakeHttp.PostJsonAsync($"{slack.BaseUrl}/services/T1/B1/nope", new { text = "x" });
        using var elsewhere = await FakeHttp.PostJsonAsync($"{slack.BaseUrl}/other", new { text = "x" });

        await FakeHttp.AssertTextAsync(revokedResponse, 404, "no_service");
        await FakeHttp.AssertTextAsync(archivedResponse, 410, "channel_is_archived");
        await FakeHttp.AssertTextAsync(unknown, 404, "no_service");
        await FakeHttp.AssertTextAsync(elsewhere, 404, "no_service");
    }

    [Fact]
    public async Task EnforcedRateLimitAnswers429AfterTheBurst()
    {
        await using var slack = await StartAsync();
        slack.EnforceRateLimit = true;
        var hook = slack.CreateWebhook();

        using var first = await FakeHttp.PostJsonAsync(hook, new { text = "1" });
        using var second = await FakeHttp.PostJsonAsync(hook, new { text = "2" });
        using var third = await FakeHttp.PostJsonAsync(hook, new { text = "3" });

        await FakeHttp.AssertTextAsync(first, 200, "ok");
        await FakeHttp.AssertTextAsync(second, 200, "ok");
        await FakeHttp.AssertTextAsync(third, 429, "rate_limited");
        Assert.Equal("1", FakeHttp.Header(third, "Retry-After"));
    }

    [Fact]
    public async Task DownAnswers503()
    {
        await using var slack = await StartAsync();
        var hook = slack.CreateWebhook();
        slack.Down = true;

        using var response = await FakeHttp.PostJsonAsync(hook, new { text = "x" });

        await FakeHttp.AssertTextAsync(response, 503, "service_unavailable");
    }
}

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
