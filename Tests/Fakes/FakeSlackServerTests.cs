namespace Dovecote.Tests.Fakes;

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
