using System.Diagnostics;
using System.Text;

namespace Dovecote.Tests.Fakes;

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
        await discord.WaitUntilAsync(
            () => discord.Requests.Any(r => r.StatusCode == FakePlatformServer.ClientClosedRequest),
            TimeSpan.FromSeconds(5),
            "the aborted request is recorded");

        // A request still held when the fake is disposed is cut off promptly.
        var pending = FakeHttp.PostJsonAsync(hook, new { content = "held" });
        await discord.WaitUntilAsync(() => discord.PendingScriptedResponses == 0, TimeSpan.FromSeconds(5), "the held request arrived");
        clock.Restart();
        await discord.DisposeAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"dispose took {clock.Elapsed}");
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => pending);
        Assert.Empty(discord.Messages);
    }

    [Fact]
    public async Task APaddedBodyReadToTheEndIsRecordedAsCompleted()
    {
        await using var slack = new FakeSlackServer();
        await slack.StartAsync();
        var hook = slack.CreateWebhook();
        slack.Script(new ScriptedResponse(200, "ok", "text/plain", PadBodyTo: 1024 * 1024));

        using var response = await FakeHttp.PostJsonAsync(hook, new { text = "x" });
        var body = await response.Content.ReadAsByteArrayAsync(FakeHttp.Ct);

        Assert.Equal(1024 * 1024, body.Length);
        Assert.Equal("ok", Encoding.UTF8.GetString(body).Trim());
        await slack.WaitUntilAsync(() => slack.StreamedBodies.Count == 1, because: "the padded body is recorded");
        var streamed = Assert.Single(slack.StreamedBodies);
        Assert.True(streamed.Completed);
        Assert.Equal(streamed.Declared, streamed.Written);
    }

    [Fact]
    public async Task APaddedBodyIsRecordedAsCutWhenTheClientHangsUpEarly()
    {
        const long tenMegabytes = 10L * 1024 * 1024;
        await using var slack = new FakeSlackServer();
        await slack.StartAsync();
        var hook = slack.CreateWebhook();
        slack.Script(new ScriptedResponse(200, "ok", "text/plain", PadBodyTo: tenMegabytes));

        using (var handler = new SocketsHttpHandler())
        using (var client = new HttpClient(handler))
        using (var request = new HttpRequestMessage(HttpMethod.Post, hook)
        {
            Content = new StringContent("{\"text\":\"x\"}", Encoding.UTF8, "application/json"),
        })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, FakeHttp.Ct))
        {
            await using var stream = await response.Content.ReadAsStreamAsync(FakeHttp.Ct);
            await stream.ReadExactlyAsync(new byte[1024], FakeHttp.Ct);
        }

        await slack.WaitUntilAsync(() => slack.StreamedBodies.Count == 1, because: "the fake notices the client hung up");
        var streamed = Assert.Single(slack.StreamedBodies);
        Assert.False(streamed.Completed);
        Assert.True(streamed.Written < tenMegabytes, $"wrote {streamed.Written} of {tenMegabytes} bytes");
    }
}
