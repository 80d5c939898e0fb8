using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Tests.Channels;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Dovecote.Tests.Api;

public sealed class McpEndpointTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Tools_are_listed_with_snake_case_arguments_and_annotations()
    {
        await using var client = await api.ConnectAsync();

        var tools = await client.ListToolsAsync(cancellationToken: Ct);

        var send = Assert.Single(tools, t => t.Name == "send_notification").ProtocolTool;
        var properties = send.InputSchema.GetProperty("properties");
        foreach (var name in new[] { "channel", "channels", "message", "title", "url", "priority", "format", "idempotency_key", "wait_seconds" })
            Assert.True(
                properties.TryGetProperty(name, out var property) && property.TryGetProperty("description", out _),
                $"{name} is missing or undescribed");
        Assert.Equal(["message"], send.InputSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.False(send.Annotations?.ReadOnlyHint);
        Assert.False(send.Annotations?.DestructiveHint);
        Assert.NotNull(send.OutputSchema);
        var status = Assert.Single(tools, t => t.Name == "get_delivery_status").ProtocolTool;
        Assert.True(status.Annotations?.ReadOnlyHint);
    }

    [Fact]
    public async Task Send_notification_delivers_and_reports_the_platform_message_id()
    {
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await api.AddTelegramChannelAsync("default", chat);
        await using var client = await api.ConnectAsync();

        var result = await client.CallToolAsync("send_notification",
            new Dictionary<string, object?> { ["channel"] = channel, ["message"] = "Your **build** finished", ["title"] = "CI", ["wait_seconds"] = 20 },
            cancellationToken: Ct);

        Assert.NotEqual(true, result.IsError);
        var delivery = result.StructuredContent!.Value.GetProperty("deliveries")[0];
        Assert.Equal("delivered", delivery.GetProperty("status").GetString());
        var sent = Assert.Single(api.Telegram.Messages, m => m.ChatId == chat);
        Assert.Equal(sent.MessageId.ToString(), delivery.GetProperty("message_id").GetString());
        Assert.Contains("<b>build</b>", sent.Text);
        Assert.StartsWith($"{channel}: delivered (message {sent.MessageId})", Text(result)); // a readable summary, not the JSON again
        Assert.Contains(delivery.GetProperty("delivery_id").GetString()!, Text(result));

        var status = await client.CallToolAsync("get_delivery_status",
            new Dictionary<string, object?> { ["delivery_id"] = delivery.GetProperty("delivery_id").GetString() }, cancellationToken: Ct);
        Assert.Equal("delivered", status.StructuredContent!.Value.GetProperty("status").GetString());
        Assert.Equal([sent.MessageId.ToString()], status.StructuredContent!.Value.GetProperty("message_ids").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Bad_arguments_get_tool_errors_with_the_reason()
    {
        var channel = await api.AddTelegramChannelAsync("default", ChannelTestKit.UniqueChatId());
        await using var client = await api.ConnectAsync();

        async Task<string> ErrorOf(Dictionary<string, object?> arguments, string tool = "send_notification")
        {
            var result = await client.CallToolAsync(tool, arguments, cancellationToken: Ct);
            Assert.True(result.IsError);
            return Text(result);
        }

        Assert.Contains("does not exist", await ErrorOf(new() { ["channel"] = "nope", ["message"] = "hi" }));
        Assert.Contains("priority must be", await ErrorOf(new() { ["channel"] = channel, ["message"] = "hi", ["priority"] = "urgent" }));
        Assert.Contains("give 'channel' or 'channels'", await ErrorOf(new() { ["message"] = "hi" }));
        Assert.Contains("not a valid channel id", await ErrorOf(new() { ["channel"] = "../etc", ["message"] = "hi" }));
        Assert.Contains("wait_seconds", await ErrorOf(new() { ["channel"] = channel, ["message"] = "hi", ["wait_seconds"] = 99 }));
        Assert.Contains("message must not be empty", await ErrorOf(new() { ["channel"] = channel, ["message"] = " " }));
        Assert.Contains("is not one Dovecote issued", await ErrorOf(new() { ["delivery_id"] = "garbage" }, "get_delivery_status"));
    }

    [Fact]
    public async Task Over_long_fields_are_tool_errors_naming_the_field_and_limit_and_the_next_send_works()
    {
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await api.AddTelegramChannelAsync("default", chat);
        await using var client = await api.ConnectAsync();
        var longUrl = "https://example.com/" + new string('a', 60_000); // a valid Uri, and 30 times the limit
        var justOverUrl = "https://example.com/" + new string('a', Notification.MaxUrlLength - 19);

        async Task<string> ErrorOf(Dictionary<string, object?> arguments)
        {
            var result = await client.CallToolAsync("send_notification", arguments, cancellationToken: Ct);
            Assert.True(result.IsError);
            return Text(result);
        }

        Assert.Contains("url is longer than 2048 characters", await ErrorOf(new() { ["channel"] = channel, ["message"] = "hi", ["url"] = longUrl }));
        Assert.Contains("url is longer than 2048 characters", await ErrorOf(new() { ["channel"] = channel, ["message"] = "hi", ["url"] = justOverUrl }));
        Assert.Contains("idempotency_key must be 1 to 200 characters",
            await ErrorOf(new() { ["channel"] = channel, ["message"] = "hi", ["idempotency_key"] = new string('k', 201) }));
        Assert.Contains(
            "idempotency_key must be 1 to 200 characters",
            await ErrorOf(new() { ["channel"] = channel, ["message"] = "hi", ["idempotency_key"] = "" }));
        Assert.Contains(
            "title is longer than 256 characters",
            await ErrorOf(new() { ["channel"] = channel, ["message"] = "hi", ["title"] = new string('t', 257) }));
        Assert.Contains("message is longer than 32000 characters", await ErrorOf(new() { ["channel"] = channel, ["message"] = new string('m', 32_001) }));
        Assert.DoesNotContain(api.Telegram.Messages, m => m.ChatId == chat);

        // At the limits exactly, the next send goes through.
        var atLimitUrl = justOverUrl[..^1];
        Assert.Equal(Notification.MaxUrlLength, atLimitUrl.Length);
        var sent = await client.CallToolAsync("send_notification", new Dictionary<string, object?>
        {
            ["channel"] = channel,
            ["message"] = "the legitimate one",
            ["url"] = atLimitUrl,
            ["idempotency_key"] = new string('k', 200),
            ["wait_seconds"] = 20,
        }, cancellationToken: Ct);

        Assert.NotEqual(true, sent.IsError);
        Assert.Equal("delivered", sent.StructuredContent!.Value.GetProperty("deliveries")[0].GetProperty("status").GetString());
        Assert.Contains("the legitimate one", Assert.Single(api.Telegram.Messages, m => m.ChatId == chat).Text);
    }

    [Fact]
    public async Task A_tenant_cannot_reach_another_tenants_channel()
    {
        var theirs = await api.AddTelegramChannelAsync("globex", ChannelTestKit.UniqueChatId());
        await using var client = await api.ConnectAsync(); // a key of tenant "default"

        var result = await client.CallToolAsync(
            "send_notification",
            new Dictionary<string, object?> { ["channel"] = theirs, ["message"] = "hi" },
            cancellationToken: Ct);

        Assert.True(result.IsError);
        Assert.Contains("does not exist", Text(result)); // looked up in the caller's own tenant
        Assert.DoesNotContain(api.Telegram.Messages, m => theirs.EndsWith(m.ChatId));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("dvc_abcdefgh1234_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Missing_or_bad_credentials_get_401(string? bearer)
    {
        using var http = new HttpClient();
        using var request = JsonRpc("tools/list");
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);

        using var response = await http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_foreign_origin_gets_403()
    {
        using var http = new HttpClient();
        using var request = JsonRpc("tools/list");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiFixture.ConfiguredKey);
        request.Headers.Add("Origin", "https://evil.example");

        using var response = await http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task An_oversized_body_is_refused_with_413()
    {
        using var http = new HttpClient();
        using var request = JsonRpc("tools/call", new string('x', 300_000));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiFixture.ConfiguredKey);

        using var response = await http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Health_needs_no_credentials()
    {
        using var http = new HttpClient();

        var body = await http.GetStringAsync($"{api.BaseUrl}/health", Ct);

        Assert.Equal("ok", JsonDocument.Parse(body).RootElement.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("2025-06-18")]
    [InlineData("2025-11-25")]
    public async Task Clients_on_older_protocol_revisions_can_initialize_and_call_tools(string version)
    {
        var initialize = await RawAsync(JsonSerializer.Serialize(new
        {
            jsonrpc = "2.0",
            id = 1,
            method = "initialize",
            @params = new { protocolVersion = version, capabilities = new { }, clientInfo = new { name = "raw", version = "1" } },
        }));
        Assert.Equal(version, initialize.GetProperty("result").GetProperty("protocolVersion").GetString());

        var list = await RawAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""", version);
        Assert.Contains(list.GetProperty("result").GetProperty("tools").EnumerateArray(), t => t.GetProperty("name").GetString() == "send_notification");
    }

    [Fact]
    public async Task The_newest_revision_is_negotiated_by_the_csharp_client()
    {
        await using var client = await api.ConnectAsync();

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"jsonrpc":"2.0","id":3,"method":"no/such/method"}""")]
    [InlineData("""{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"send_notification","arguments":{"channel":"x","message":"hi","wait_seconds":"soon"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"send_notification","arguments":{"channel":["a"],"message":{"nested":true}}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}""")]
    public async Task Malformed_requests_and_wrong_argument_types_get_clear_errors_never_500(string body)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/mcp")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiFixture.ConfiguredKey);
        request.Headers.Add("MCP-Protocol-Version", "2025-11-25");

        using var response = await http.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode}: {text}");
        Assert.True(text.Contains("\"error\"") || text.Contains("\"isError\":true"), text);
    }

    [Fact]
    public async Task A_foreign_host_gets_400_but_health_still_answers()
    {
        using var http = new HttpClient();
        using var request = JsonRpc("tools/list");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiFixture.ConfiguredKey);
        request.Headers.Host = "rebound.attacker.example";
        using var health = new HttpRequestMessage(HttpMethod.Get, $"{api.BaseUrl}/health/ready");
        health.Headers.Host = "10.1.2.3:8080"; // a kubelet probe addresses the pod by IP

        using var refused = await http.SendAsync(request, Ct);
        using var ready = await http.SendAsync(health, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", JsonDocument.Parse(await ready.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("status").GetString());
    }

    /// <summary>POSTs one JSON-RPC message and returns the response message (read from the SSE stream).</summary>
    private async Task<JsonElement> RawAsync(string body, string? protocolVersion = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/mcp")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiFixture.ConfiguredKey);
        if (protocolVersion is not null) request.Headers.Add("MCP-Protocol-Version", protocolVersion);
        using var response = await http.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, text);
        var json = text.Split('\n').Where(l => l.StartsWith("data:")).Select(l => l["data:".Length..].Trim()).LastOrDefault(l => l.Length > 0) ?? text;
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    private HttpRequestMessage JsonRpc(string method, string padding = "")
    {
        var json = $$$"""{"jsonrpc":"2.0","id":1,"method":"{{{method}}}","params":{"pad":"{{{padding}}}"}}""";
        var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/mcp") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        return request;
    }

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    [Fact]
    public async Task A_message_nested_past_the_markdown_depth_limit_is_a_tool_error_and_the_next_message_is_delivered()
    {
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await api.AddTelegramChannelAsync("default", chat);
        await using var client = await api.ConnectAsync();

        // Once acknowledged, then thrown inside the drain timer at the head of the outbox, blocking the channel for good.
        var poison = await client.CallToolAsync("send_notification",
            new Dictionary<string, object?> { ["channel"] = channel, ["message"] = string.Concat(Enumerable.Repeat("> ", 128)) + "text" },
            cancellationToken: Ct);
        var next = await client.CallToolAsync("send_notification",
            new Dictionary<string, object?> { ["channel"] = channel, ["message"] = "the next legitimate message", ["wait_seconds"] = 20 },
            cancellationToken: Ct);

        Assert.True(poison.IsError);
        Assert.Contains("nests Markdown too deeply", Text(poison));
        Assert.NotEqual(true, next.IsError);
        Assert.Equal("delivered", next.StructuredContent!.Value.GetProperty("deliveries")[0].GetProperty("status").GetString());
        Assert.Equal(["the next legitimate message"], api.Telegram.Messages.Where(m => m.ChatId == chat).Select(m => m.Text).Distinct());
    }
}
