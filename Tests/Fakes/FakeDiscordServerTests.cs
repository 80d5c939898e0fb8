using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Dovecote.Tests.Fakes;

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
    public async Task WebhooksInASharedBucketShareOneWindowAndBucketId()
    {
        await using var discord = await StartAsync();
        var first = discord.CreateWebhook(sharedBucket: "team");
        var second = discord.CreateWebhook(sharedBucket: "team");
        var alone = discord.CreateWebhook();
        var expectedBucket = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("shared:team")))[..32];

        var clock = Stopwatch.StartNew();
        var remaining = new List<string>();
        var buckets = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var ok = await FakeHttp.PostJsonAsync(i % 2 == 0 ? first : second, new { content = $"m{i}" });
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
            remaining.Add(FakeHttp.Header(ok, "X-RateLimit-Remaining"));
            buckets.Add(FakeHttp.Header(ok, "X-RateLimit-Bucket"));
        }

        using var limitedSecond = await FakeHttp.PostJsonAsync(second, new { content = "m5" });
        using var limitedFirst = await FakeHttp.PostJsonAsync(first, new { content = "m6" });
        var elapsed = clock.Elapsed;
        using var separate = await FakeHttp.PostJsonAsync(alone, new { content = "own bucket" });
        if (elapsed >= FakeDiscordServer.RateLimitWindow)
        {
            Assert.Skip("the machine took longer than one rate-limit window for 7 requests");
        }

        Assert.Equal(["4", "3", "2", "1", "0"], remaining);
        Assert.All(buckets, bucket => Assert.Equal(expectedBucket, bucket));
        foreach (var limited in new[] { limitedSecond, limitedFirst })
        {
            Assert.Equal(429, (int)limited.StatusCode);
            Assert.Equal(expectedBucket, FakeHttp.Header(limited, "X-RateLimit-Bucket"));
            Assert.Equal("0", FakeHttp.Header(limited, "X-RateLimit-Remaining"));
            Assert.Equal("You are being rate limited.", (await FakeHttp.JsonAsync(limited))["message"]!.GetValue<string>());
        }

        Assert.Equal(HttpStatusCode.NoContent, separate.StatusCode);
        Assert.Equal("4", FakeHttp.Header(separate, "X-RateLimit-Remaining"));
        Assert.Matches(@"^[0-9a-f]{32}$", FakeHttp.Header(separate, "X-RateLimit-Bucket"));
        Assert.NotEqual(expectedBucket, FakeHttp.Header(separate, "X-RateLimit-Bucket"));
        Assert.Equal(2, discord.RateLimitedCount);
        Assert.Equal(5, discord.MaxAcceptedInAnyWindow([first, second], FakeDiscordServer.RateLimitWindow));
        Assert.Equal(6, discord.Messages.Count);
    }

    [Fact]
    public async Task ForbiddenWebhookAnswers403AndStillCountsAgainstItsBucket()
    {
        await using var discord = await StartAsync();
        var hook = discord.CreateWebhook();
        var other = discord.CreateWebhook();
        discord.ForbidWebhook(hook);
        var parts = hook.Split('/');

        var clock = Stopwatch.StartNew();
        using var wrongToken = await FakeHttp.PostJsonAsync(string.Join('/', parts[..^1]) + "/wrongtoken", new { content = "x" });
        using var forbidden = await FakeHttp.PostJsonAsync(hook + "?wait=true", new { content = "x" });
        using var stillFine = await FakeHttp.PostJsonAsync(other, new { content = "x" });

        await FakeHttp.AssertJsonAsync(wrongToken, 401, """{"message": "Invalid Webhook Token", "code": 50027}""");
        await FakeHttp.AssertJsonAsync(forbidden, 403, """{"message": "Missing Permissions", "code": 50013}""");
        Assert.Equal("5", FakeHttp.Header(forbidden, "X-RateLimit-Limit"));
        Assert.Equal("4", FakeHttp.Header(forbidden, "X-RateLimit-Remaining"));
        Assert.Matches(@"^[0-9a-f]{32}$", FakeHttp.Header(forbidden, "X-RateLimit-Bucket"));
        Assert.Equal(HttpStatusCode.NoContent, stillFine.StatusCode);
        Assert.Equal(other.Split('/')[^2], Assert.Single(discord.Messages).WebhookId);
        Assert.Throws<ArgumentException>(() => discord.ForbidWebhook($"{discord.BaseUrl}/api/webhooks/1/abc"));

        var statuses = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await FakeHttp.PostJsonAsync(hook, new { content = "x" });
            statuses.Add((int)response.StatusCode);
        }

        if (clock.Elapsed >= FakeDiscordServer.RateLimitWindow)
        {
            Assert.Skip("the machine took longer than one rate-limit window for 8 requests");
        }

        // The 401 does not count (no bucket before the token check); the first 403 and the next four fill the window.
        Assert.Equal([403, 403, 403, 403, 429], statuses);
    }

    [Fact]
    public async Task MaxAcceptedInAnyWindowAndRateLimitedCountAreComputedFromTheRecords()
    {
        await using var discord = await StartAsync();
        discord.EnforceRateLimit = false;
        var first = discord.CreateWebhook();
        var second = discord.CreateWebhook();
        var unused = discord.CreateWebhook();
        Assert.Equal(0, discord.MaxAcceptedInAnyWindow([first], TimeSpan.FromSeconds(2)));

        foreach (var hook in new[] { first, second, first, first, second })
        {
            using var response = await FakeHttp.PostJsonAsync(hook, new { content = "x" });
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        using var rejected = await FakeHttp.PostJsonAsync(first, new { content = "" });
        discord.Script(FakeDiscordServer.RateLimited(1));
        using var scripted = await FakeHttp.PostJsonAsync(second, new { content = "x" });

        var times = discord.Messages.Where(m => m.WebhookId == first.Split('/')[^2]).Select(m => m.ReceivedAt).ToList();
        Assert.Equal(3, times.Count);
        foreach (var window in new[] { TimeSpan.FromTicks(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(50) })
        {
            // The fullest half-open window starts at some message's time.
            var expected = times.Max(start => times.Count(t => t >= start && t < start + window));
            Assert.Equal(expected, discord.MaxAcceptedInAnyWindow([first], window));
        }

        Assert.Equal(3, discord.MaxAcceptedInAnyWindow([first], TimeSpan.FromHours(1)));
        Assert.Equal(5, discord.MaxAcceptedInAnyWindow([first, second, unused], TimeSpan.FromHours(1)));
        Assert.Equal(0, discord.MaxAcceptedInAnyWindow([unused], TimeSpan.FromHours(1)));
        Assert.Equal(0, discord.MaxAcceptedInAnyWindow([], TimeSpan.FromHours(1)));
        Assert.Equal(1, discord.RateLimitedCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => discord.MaxAcceptedInAnyWindow([first], TimeSpan.Zero));
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
