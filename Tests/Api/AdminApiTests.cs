using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dovecote.Api;
using Dovecote.Api.RateLimiting;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;
using ModelContextProtocol.Protocol;

namespace Dovecote.Tests.Api;

public sealed class AdminApiTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    private async Task<string> CreateTenantAsync()
    {
        var tenant = $"t{Guid.NewGuid():N}"[..12];
        using var admin = api.Admin();
        var response = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Acme Corp", password = "correct horse battery" }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return tenant;
    }

    [Fact]
    public async Task Seeded_channels_are_listed_and_deliver()
    {
        await using var client = await api.ConnectAsync();

        var list = await client.CallToolAsync("list_channels", new Dictionary<string, object?>(), cancellationToken: Ct);
        var channel = Assert.Single(
            list.StructuredContent!.Value.GetProperty("channels").EnumerateArray(),
            c => c.GetProperty("id").GetString() == "telegram-phone");
        Assert.Equal("telegram", channel.GetProperty("type").GetString());
        Assert.DoesNotContain("seed-token", list.StructuredContent!.Value.GetRawText());
        Assert.Contains("telegram-phone: telegram 'phone', enabled, healthy", Text(list));

        var sent = await client.CallToolAsync("send_notification",
            new Dictionary<string, object?> { ["channel"] = "telegram-phone", ["message"] = "seeded hello" }, cancellationToken: Ct);
        Assert.NotEqual(true, sent.IsError);
        await api.Telegram.WaitUntilAsync(() => api.Telegram.Messages.Any(m => m.ChatId == ApiFixture.SeededChatId && m.Text == "seeded hello"));
    }

    [Fact]
    public async Task A_suspended_tenant_is_refused_sends_with_the_reason_keeps_its_channels_and_is_unsuspended()
    {
        var tenant = await CreateTenantAsync();
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await api.AddTelegramChannelAsync(tenant, chat);
        using var admin = api.Admin();
        var key = (await JsonOf(await admin.PostAsJsonAsync($"/admin/tenants/{tenant}/api-keys", new { name = "agent" }, Ct))).GetProperty("key").GetString();
        await using var client = await api.ConnectAsync(key);

        var noReason = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}/suspension", new { }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        var suspended = await JsonOf(await admin.PutAsJsonAsync($"/admin/tenants/{tenant}/suspension", new { reason = "abuse report 7" }, Ct));
        Assert.Equal("abuse report 7", suspended.GetProperty("suspendedReason").GetString());
        var refused = await client.CallToolAsync("send_notification",
            new Dictionary<string, object?> { ["channel"] = channel, ["message"] = "while suspended" }, cancellationToken: Ct);
        Assert.True(refused.IsError);
        Assert.Equal($"tenant '{tenant}' is suspended by the operator: abuse report 7", Text(refused));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/admin/tenants/{tenant}/channels/{channel}", Ct)).StatusCode);

        var lifted = await JsonOf(await admin.DeleteAsync($"/admin/tenants/{tenant}/suspension", Ct));
        Assert.Equal(JsonValueKind.Null, lifted.GetProperty("suspendedReason").ValueKind);
        var sent = await client.CallToolAsync("send_notification",
            new Dictionary<string, object?> { ["channel"] = channel, ["message"] = "after", ["wait_seconds"] = 20 }, cancellationToken: Ct);
        Assert.NotEqual(true, sent.IsError);
        await api.Telegram.WaitUntilAsync(() => api.Telegram.Messages.Any(m => m.ChatId == chat && m.Text == "after"));
        Assert.DoesNotContain(api.Telegram.Messages, m => m.ChatId == chat && m.Text == "while suspended");
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("not-the-token", HttpStatusCode.Unauthorized)]
    public async Task Admin_needs_the_operator_token(string? token, HttpStatusCode expected)
    {
        using var admin = api.Admin(token);

        var response = await admin.GetAsync("/admin/tenants/default", Ct);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Admin_traffic_does_not_count_as_failed_api_key_attempts()
    {
        using var admin = api.Admin();
        for (var i = 0; i <= Dovecote.Api.RateLimiting.ClusterRateLimiter.FailedAuthentication.Limit; i++)
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/tenants/default", Ct)).StatusCode);

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "a-wrong-key");
        using var response = await http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode); // 401, not 429: the admin token was never tried as an API key
    }

    [Fact]
    public async Task Channels_are_managed_with_secrets_masked_and_bad_input_refused_with_reasons()
    {
        var tenant = await CreateTenantAsync();
        using var admin = api.Admin();
        var url = $"/admin/tenants/{tenant}/channels/ops";

        var put = await admin.PutAsJsonAsync(
            url,
            new { type = "telegram", name = "Ops", settings = new { botToken = "777777:super-secret-bot", chatId = 99 } },
            Ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var body = await put.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("super-secret-bot", body);
        Assert.Contains("7777****", body);
        var get = await admin.GetAsync(url, Ct);
        Assert.Equal("99", (await JsonOf(get)).GetProperty("settings").GetProperty("chatId").GetString());

        async Task<string> Refused(string path, object payload, HttpStatusCode status = HttpStatusCode.BadRequest)
        {
            var response = await admin.PutAsJsonAsync(path, payload, Ct);
            Assert.Equal(status, response.StatusCode);
            return (await JsonOf(response)).GetProperty("error_description").GetString()!;
        }

        Assert.Contains("type must be one of", await Refused(url, new { type = "fax", name = "x", settings = new { } }));
        Assert.Equal("botToken is required", await Refused(url, new { type = "telegram", name = "x", settings = new { chatId = 1 } }));
        Assert.Contains("whsec_", await Refused(url, new { type = "webhook", name = "x", settings = new { url = "https://example.com/h", secret = "plain" } }));
        Assert.Contains(
            "tenant id",
            await Refused("/admin/tenants/ACME!/channels/x", new { type = "slack", name = "x", settings = new { webhookUrl = "https://example.com" } }));
        Assert.Contains("does not exist", await Refused("/admin/tenants/nobody-here/channels/x",
            new { type = "slack", name = "x", settings = new { webhookUrl = "https://example.com/x" } }, HttpStatusCode.NotFound));

        var malformed = await admin.PutAsync(url, new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(url, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(url, Ct)).StatusCode);
    }

    [Fact]
    public async Task A_minted_api_key_acts_for_its_tenant_only_and_stops_working_when_revoked()
    {
        var tenant = await CreateTenantAsync();
        using var admin = api.Admin();
        var chat = ChannelTestKit.UniqueChatId();
        await admin.PutAsJsonAsync(
            $"/admin/tenants/{tenant}/channels/mine",
            new { type = "telegram", name = "Mine", settings = new { botToken = "123456:minted-test", chatId = chat } },
            Ct);
        var created = await admin.PostAsJsonAsync($"/admin/tenants/{tenant}/api-keys", new { name = "ci" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var minted = await JsonOf(created);
        var key = minted.GetProperty("key").GetString()!;
        Assert.StartsWith(minted.GetProperty("prefix").GetString()!, key);

        await using (var client = await api.ConnectAsync(key))
        {
            var list = await client.CallToolAsync("list_channels", new Dictionary<string, object?>(), cancellationToken: Ct);
            Assert.Equal(["mine"], list.StructuredContent!.Value.GetProperty("channels").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
            var seeded = await client.CallToolAsync(
                "send_notification",
                new Dictionary<string, object?> { ["channel"] = "telegram-phone", ["message"] = "x" },
                cancellationToken: Ct);
            Assert.True(seeded.IsError); // tenant default's channel is not visible to this tenant
            var mine = await client.CallToolAsync(
                "send_notification",
                new Dictionary<string, object?> { ["channel"] = "mine", ["message"] = "from a minted key" },
                cancellationToken: Ct);
            Assert.NotEqual(true, mine.IsError);
            await api.Telegram.WaitUntilAsync(() => api.Telegram.Messages.Any(m => m.ChatId == chat));
        }

        var keys = await JsonOf(await admin.GetAsync($"/admin/tenants/{tenant}/api-keys", Ct));
        Assert.DoesNotContain(key, keys.GetRawText());
        var keyId = minted.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/tenants/{tenant}/api-keys/{keyId}", Ct)).StatusCode);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var refused = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Env_profiles_past_their_stored_budget_together_are_refused_with_the_reason()
    {
        var tenant = await CreateTenantAsync();
        using var admin = api.Admin();
        // About 100 KB of values: once encrypted (base64) one profile fits the 192 KiB budget, a second one does not.
        var values = Enumerable.Range(0, 100).ToDictionary(i => $"VALUE_{i}", _ => new string('v', 1_000));
        using var first = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}/env/first", new { values }, Ct);
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);

        using var second = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}/env/second", new { values }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Contains("would exceed 192 KiB together once encrypted", await second.Content.ReadAsStringAsync(Ct));
        using var kept = await admin.GetAsync($"/admin/tenants/{tenant}", Ct);
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
    }

    [Fact]
    public async Task The_audit_of_a_day_pages_with_limit_and_a_next_link_and_refuses_a_bad_cursor()
    {
        var tenant = await CreateTenantAsync();
        using var admin = api.Admin();
        for (var i = 0; i < 4; i++)
        {
            var put = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}/env/p{i}", new { values = new { K = "v" } }, Ct);
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        var targets = new List<string?>();
        var url = $"/admin/tenants/{tenant}/audit?limit=2";
        var pages = 0;
        while (url is not null && pages++ < 10)
        {
            using var page = await admin.GetAsync(url, Ct);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var events = (await JsonOf(page)).EnumerateArray().ToList();
            Assert.InRange(events.Count, 1, 2);
            targets.AddRange(events.Select(e => e.GetProperty("target").GetString()));
            url = page.Headers.TryGetValues("Link", out var links) ? links.Single().Split('<', '>')[1] : null;
        }

        Assert.Equal([tenant, "p0", "p1", "p2", "p3"], targets); // tenant.put, then the four env.put, none twice or lost
        Assert.Equal(3, pages);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync($"/admin/tenants/{tenant}/audit?limit=0", Ct)).StatusCode);
        using var badCursor = await admin.GetAsync($"/admin/tenants/{tenant}/audit?after=not-a-cursor", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);
        Assert.Contains("after must be the next of the previous page", await badCursor.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Env_profiles_are_read_with_get_env_and_every_read_is_audited()
    {
        using var admin = api.Admin();
        var put = await admin.PutAsJsonAsync(
            "/admin/tenants/default/env/production",
            new { values = new Dictionary<string, string> { ["DATABASE_URL"] = "postgres://db/prod" } },
            Ct);
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        await using var client = await api.ConnectAsync();

        var env = await client.CallToolAsync("get_env", new Dictionary<string, object?> { ["profile"] = "production" }, cancellationToken: Ct);
        var missing = await client.CallToolAsync("get_env", new Dictionary<string, object?> { ["profile"] = "nope" }, cancellationToken: Ct);

        Assert.Equal("postgres://db/prod", env.StructuredContent!.Value.GetProperty("values").GetProperty("DATABASE_URL").GetString());
        Assert.True(missing.IsError);
        var audit = await JsonOf(await admin.GetAsync("/admin/tenants/default/audit", Ct));
        var actions = audit.EnumerateArray().Select(e => (e.GetProperty("action").GetString(), e.GetProperty("target").GetString())).ToList();
        Assert.Contains(("env.put", "production"), actions);
        Assert.Contains(("env.read", "production"), actions);
        Assert.Contains(("env.read", "nope"), actions);
        Assert.DoesNotContain("postgres://db/prod", audit.GetRawText());
    }

    [Fact]
    public async Task Dead_letters_are_listed_and_redriven_through_admin()
    {
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await api.AddTelegramChannelAsync("default", chat);
        api.Telegram.Script(FakeTelegramServer.ChatNotFound());
        await using var client = await api.ConnectAsync();
        var sent = await client.CallToolAsync(
            "send_notification",
            new Dictionary<string, object?> { ["channel"] = channel, ["message"] = "again", ["wait_seconds"] = 20 },
            cancellationToken: Ct);
        Assert.Equal("failed", sent.StructuredContent!.Value.GetProperty("deliveries")[0].GetProperty("status").GetString());
        using var admin = api.Admin();

        var dead = await JsonOf(await admin.GetAsync($"/admin/tenants/default/channels/{channel}/dead-letters", Ct));
        Assert.Single(dead.EnumerateArray());
        var redriven = await JsonOf(await admin.PostAsJsonAsync($"/admin/tenants/default/channels/{channel}/redrive", new { }, Ct));

        Assert.Equal(1, redriven.GetProperty("redriven").GetInt32());
        await api.Telegram.WaitUntilAsync(() => api.Telegram.Messages.Any(m => m.ChatId == chat && m.Text == "again"));
    }

    [Fact]
    public async Task Tenants_are_listed_a_page_at_a_time_in_id_order()
    {
        using var admin = api.Admin();
        // "zz" ids sort after every other tenant of this fixture, so the last page is known to end with them.
        var prefix = $"zz{Guid.NewGuid():N}"[..14];
        string[] ids = [$"{prefix}-a", $"{prefix}-b", $"{prefix}-c"];
        foreach (var id in new[] { ids[2], ids[0], ids[1] }) // created out of order: the list sorts, across directory shards
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/admin/tenants/{id}", new { displayName = $"Tenant {id[^1]}" }, Ct)).StatusCode);

        var first = await JsonOf(await admin.GetAsync($"/admin/tenants?limit=2&after={prefix}", Ct));
        var firstIds = first.GetProperty("tenants").EnumerateArray().Select(t => t.GetProperty("tenant").GetString()).ToList();
        Assert.Equal(ids[..2], firstIds);
        Assert.Equal(ids[1], first.GetProperty("next").GetString());
        Assert.Equal("Tenant a", first.GetProperty("tenants")[0].GetProperty("displayName").GetString());

        var second = await JsonOf(await admin.GetAsync($"/admin/tenants?limit=2&after={first.GetProperty("next").GetString()}", Ct));
        Assert.Equal([ids[2]], second.GetProperty("tenants").EnumerateArray().Select(t => t.GetProperty("tenant").GetString()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind); // the last page

        var all = await JsonOf(await admin.GetAsync("/admin/tenants", Ct)); // default limit 100: this fixture has fewer tenants
        var allIds = all.GetProperty("tenants").EnumerateArray().Select(t => t.GetProperty("tenant").GetString()!).ToList();
        Assert.Contains("default", allIds); // seeded at start-up
        Assert.Equal(allIds.Order(StringComparer.Ordinal), allIds);
        Assert.Equal(ids, allIds[^3..]);
        Assert.Equal(JsonValueKind.Null, all.GetProperty("next").ValueKind);
    }

    [Theory]
    [InlineData("?limit=0", "limit must be 1 to 1000")]
    [InlineData("?limit=1001", "limit must be 1 to 1000")]
    [InlineData("?after=Not_A_Tenant", "after must be a tenant id")]
    public async Task A_bad_tenant_page_is_refused_with_the_reason(string query, string reason)
    {
        using var admin = api.Admin();

        var response = await admin.GetAsync($"/admin/tenants{query}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await JsonOf(response);
        Assert.Equal("invalid_request", error.GetProperty("error").GetString());
        Assert.Contains(reason, error.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task Channels_of_a_tenant_are_listed_with_every_secret_masked()
    {
        var tenant = await CreateTenantAsync();
        using var admin = api.Admin();
        var webhookSecret = "whsec_" + Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        await PutChannelAsync(
            admin,
            tenant,
            "tg",
            new { type = "telegram", name = "Phone", settings = new { botToken = "424242:listed-bot-secret", chatId = 7 } });
        await PutChannelAsync(
            admin,
            tenant,
            "chat",
            new { type = "discord", settings = new { webhookUrl = "https://discord.example/api/webhooks/1/discord-path-secret" } });
        await PutChannelAsync(
            admin,
            tenant,
            "hook",
            new { type = "webhook", name = "Hook", settings = new { url = "https://hooks.example/in/webhook-path-secret", secret = webhookSecret } });

        var response = await admin.GetAsync($"/admin/tenants/{tenant}/channels", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(Ct);
        foreach (var secret in new[] { "listed-bot-secret", "discord-path-secret", "webhook-path-secret", webhookSecret, webhookSecret["whsec_".Length..] })
            Assert.DoesNotContain(secret, body);
        var channels = JsonDocument.Parse(body).RootElement.EnumerateArray().ToDictionary(c => c.GetProperty("channelId").GetString()!);
        Assert.Equal(["chat", "hook", "tg"], channels.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Phone", channels["tg"].GetProperty("name").GetString());
        Assert.Equal("4242****", channels["tg"].GetProperty("settings").GetProperty("botToken").GetString());
        Assert.Equal("https://discord.example/****", channels["chat"].GetProperty("settings").GetProperty("webhookUrl").GetString());
        Assert.Equal("whsec_****", channels["hook"].GetProperty("settings").GetProperty("secret").GetString());

        var nobody = $"nobody-{Guid.NewGuid():N}"[..20];
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/admin/tenants/{nobody}/channels", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_channel_put_without_a_name_is_named_after_its_id()
    {
        var tenant = await CreateTenantAsync();
        using var admin = api.Admin();

        var put = await PutChannelAsync(
            admin,
            tenant,
            "alerts.prod",
            new { type = "slack", settings = new { webhookUrl = "https://hooks.slack.example/services/x" } });

        Assert.Equal("alerts.prod", put.GetProperty("name").GetString());
        var stored = await JsonOf(await admin.GetAsync($"/admin/tenants/{tenant}/channels/alerts.prod", Ct));
        Assert.Equal("alerts.prod", stored.GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_grain_saying_the_tenant_does_not_exist_is_a_404_with_the_reason()
    {
        var tenant = $"nobody-{Guid.NewGuid():N}"[..20];
        using var admin = api.Admin();

        // The handler does not look the tenant up: TenantGrain throws NotFoundException and the admin gate maps it.
        var response = await admin.PostAsJsonAsync($"/admin/tenants/{tenant}/api-keys", new { name = "ci" }, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await JsonOf(response);
        Assert.Equal("not_found", error.GetProperty("error").GetString());
        Assert.Equal($"tenant '{tenant}' does not exist", error.GetProperty("error_description").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/admin/tenants/{tenant}/api-keys", Ct)).StatusCode);
        var env = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}/env/prod", new { values = new Dictionary<string, string> { ["A"] = "b" } }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, env.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/admin/tenants/Not_A_Tenant", "tenant id")]
    [InlineData("GET", "/admin/tenants/Not_A_Tenant/channels", "tenant id")]
    [InlineData("GET", "/admin/tenants/default/channels/-starts-with-a-dash", "channel id")]
    [InlineData("GET", "/admin/tenants/default/channels/has!bang/dead-letters", "channel id")]
    [InlineData("DELETE", "/admin/tenants/default/channels/x%20y", "channel id")]
    [InlineData("GET", "/admin/tenants/default/channels/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "channel id")] // 65 characters
    public async Task A_bad_tenant_or_channel_id_in_the_route_is_a_400_with_the_reason(string method, string path, string reason)
    {
        using var admin = api.Admin();

        using var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await JsonOf(response);
        Assert.Equal("invalid_request", error.GetProperty("error").GetString());
        Assert.Contains(reason, error.GetProperty("error_description").GetString());
    }

    private static async Task<JsonElement> PutChannelAsync(HttpClient admin, string tenant, string channel, object body)
    {
        var response = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}/channels/{channel}", body, Ct);
        Assert.True(
            response.StatusCode == HttpStatusCode.OK,
            $"PUT channel {channel}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        return await JsonOf(response);
    }

    [Theory]
    [InlineData("TELEGRAM_INSTANCES", "not json", "TELEGRAM_INSTANCES is not valid JSON")]
    [InlineData("DISCORD_INSTANCES", """[{"id":"a"}]""", "DISCORD_INSTANCES[0]: webhookUrl is required")]
    [InlineData(
        "WEBHOOK_INSTANCES",
        """[{"url":"https://example.com","secret":"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]""",
        "WEBHOOK_INSTANCES[0].id is required")]
    public void Invalid_seed_configuration_stops_start_up_naming_the_variable(string variable, string value, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(
            () => DovecoteApi.Create([$"--{variable}={value}", "--DOVECOTE_DATA_DIR=/nonexistent/never-created"]));

        Assert.Contains(message, error.Message);
    }
}
