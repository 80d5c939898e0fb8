using System.Net;
using System.Text.Json.Nodes;

namespace Dovecote.Tests.Fakes;

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
    [InlineData(
        "<strong>s</strong><em>e</em><ins>i</ins><s>x</s><strike>y</strike><del>z</del><span class=\"tg-spoiler\">p</span><tg-spoiler>q</tg-spoiler>",
        "seixyzpq")]
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
    public async Task EnforcedPerBotLimitAcceptsAtMost30PerSecondAcrossChats()
    {
        await using var telegram = await StartAsync();
        telegram.EnforcePerBotLimit = true;
        const string OtherToken = "654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

        var responses = await Task.WhenAll(Enumerable.Range(1, 40).Select(chat => SendAsync(telegram, new { chat_id = chat, text = "bulk" })));
        using var other = await SendAsync(telegram, new { chat_id = 1, text = "other bot" }, OtherToken);

        var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var limited = responses.Where(r => (int)r.StatusCode == 429).ToList();
        Assert.Equal(40, accepted + limited.Count);
        foreach (var response in limited)
        {
            // Whatever the arrival order, the oldest send of a full window leaves it within 1 s.
            await FakeHttp.AssertJsonAsync(response, 429,
                """{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}""");
            Assert.Equal("1", FakeHttp.Header(response, "Retry-After"));
        }

        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(0, telegram.RateLimitedCount(OtherToken));
        Assert.Equal(limited.Count, telegram.RateLimitedCount(Token));
        Assert.Equal(accepted, telegram.Messages.Count(m => m.Token == Token));
        Assert.InRange(telegram.MaxAcceptedInAnyWindow(Token, TimeSpan.FromSeconds(1)), 1, FakeTelegramServer.PerBotLimit);

        // Sent concurrently, the 40 normally arrive within one second; then exactly 30 fit. On a machine so
        // loaded that they spread wider, only the invariants above hold.
        var received = telegram.Requests.Where(r => r.Path.StartsWith($"/bot{Token}/", StringComparison.Ordinal)).Select(r => r.ReceivedAt).ToList();
        Assert.Equal(40, received.Count);
        if (received.Max() - received.Min() < TimeSpan.FromSeconds(1))
        {
            Assert.Equal(FakeTelegramServer.PerBotLimit, accepted);
            Assert.Equal(10, telegram.RateLimitedCount(Token));
            Assert.Equal(FakeTelegramServer.PerBotLimit, telegram.MaxAcceptedInAnyWindow(Token, TimeSpan.FromSeconds(1)));
        }

        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task PerBotLimitIsOffByDefault()
    {
        await using var telegram = await StartAsync();

        var responses = await Task.WhenAll(Enumerable.Range(1, 40).Select(chat => SendAsync(telegram, new { chat_id = chat, text = "bulk" })));

        Assert.False(telegram.EnforcePerBotLimit);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(0, telegram.RateLimitedCount(Token));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task MaxAcceptedInAnyWindowAndRateLimitedCountAreComputedFromTheRecords()
    {
        await using var telegram = await StartAsync();
        const string OtherToken = "654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
        Assert.Equal(0, telegram.MaxAcceptedInAnyWindow(Token, TimeSpan.FromSeconds(1)));

        for (var i = 0; i < 6; i++)
        {
            using var response = await SendAsync(telegram, new { chat_id = i, text = "x" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var otherBot = await SendAsync(telegram, new { chat_id = 1, text = "x" }, OtherToken);
        telegram.Script(FakeTelegramServer.RateLimited(3), FakeTelegramServer.RateLimited(4));
        using var scripted = await SendAsync(telegram, new { chat_id = 1, text = "x" });
        using var scriptedOther = await SendAsync(telegram, new { chat_id = 1, text = "x" }, OtherToken);
        using var rejected = await SendAsync(telegram, new { chat_id = 1, text = "" });

        var times = telegram.Messages.Where(m => m.Token == Token).Select(m => m.ReceivedAt).ToList();
        Assert.Equal(6, times.Count);
        foreach (var window in new[] { TimeSpan.FromTicks(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(50) })
        {
            // The fullest half-open window starts at some message's time.
            var expected = times.Max(start => times.Count(t => t >= start && t < start + window));
            Assert.Equal(expected, telegram.MaxAcceptedInAnyWindow(Token, window));
        }

        Assert.Equal(6, telegram.MaxAcceptedInAnyWindow(Token, TimeSpan.FromHours(1)));
        Assert.Equal(1, telegram.MaxAcceptedInAnyWindow(OtherToken, TimeSpan.FromHours(1)));
        Assert.Equal(0, telegram.MaxAcceptedInAnyWindow("1:unused_token", TimeSpan.FromHours(1)));
        Assert.Equal(1, telegram.RateLimitedCount(Token));
        Assert.Equal(1, telegram.RateLimitedCount(OtherToken));
        Assert.Throws<ArgumentOutOfRangeException>(() => telegram.MaxAcceptedInAnyWindow(Token, TimeSpan.Zero));
    }

    [Fact]
    public async Task PerChatLimitIsKeyedByTokenAndChat()
    {
        await using var telegram = await StartAsync();
        telegram.EnforcePerChatLimit = true;
        const string OtherToken = "654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await SendAsync(telegram, new { chat_id = 7, text = "burst" });
            statuses.Add((int)response.StatusCode);
        }

        using var sameChatOtherBot = await SendAsync(telegram, new { chat_id = 7, text = "other bot" }, OtherToken);

        Assert.Equal([200, 200, 200, 429], statuses);
        Assert.Equal(HttpStatusCode.OK, sameChatOtherBot.StatusCode);
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
