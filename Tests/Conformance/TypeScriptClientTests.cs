using System.Net;
using System.Text;
using System.Text.Json;
using Dovecote.Tests.Api;
using Dovecote.Tests.Channels;

namespace Dovecote.Tests.Conformance;

/// <summary>
/// The TypeScript MCP SDK (Client + StreamableHTTPClientTransport, Tests/node/ts-client.mjs) against the real,
/// authenticated /mcp of the production-configured Api, delivering to the fake Telegram server.
/// </summary>
public sealed class TypeScriptClientTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(90);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_typescript_sdk_client_sends_a_notification_and_reads_its_status_with_a_bearer_key()
    {
        var chat = ChannelTestKit.UniqueChatId();
        var channel = await api.AddTelegramChannelAsync("default", chat);
        var message = $"Deploy **{Guid.NewGuid():N}** finished";

        var run = await NodeTooling.RunAsync([Path.Combine(NodeTooling.NodeDirectory, "ts-client.mjs")], ClientTimeout, new Dictionary<string, string>
        {
            ["DOVECOTE_MCP_URL"] = $"{api.BaseUrl}/mcp",
            ["DOVECOTE_API_KEY"] = ApiFixture.ConfiguredKey,
            ["DOVECOTE_CHANNEL"] = channel,
            ["DOVECOTE_MESSAGE"] = message,
        }, Ct);

        Assert.True(run.ExitCode == 0, $"ts-client.mjs failed: {run.Describe()}");
        using var summary = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]);
        var root = summary.RootElement;
        string Describe() => $"summary: {root}";

        Assert.Equal("dovecote", root.GetProperty("server").GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("protocolVersion").GetString()), Describe());
        var tools = root.GetProperty("tools").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Contains("send_notification", tools);
        Assert.Contains("get_delivery_status", tools);

        var delivery = root.GetProperty("send").GetProperty("deliveries").EnumerateArray().Single();
        Assert.Equal(channel, delivery.GetProperty("channel").GetString());
        Assert.True(delivery.GetProperty("status").GetString() == "delivered", Describe());
        var sent = Assert.Single(api.Telegram.Messages, m => m.ChatId == chat);
        Assert.Equal(sent.MessageId.ToString(), delivery.GetProperty("message_id").GetString());
        Assert.Contains($"<b>{message.Split("**")[1]}</b>", sent.Text); // the Markdown was rendered for Telegram
        Assert.Contains("Interop", sent.Text); // the title

        var status = root.GetProperty("status");
        Assert.Equal(delivery.GetProperty("delivery_id").GetString(), status.GetProperty("delivery_id").GetString());
        Assert.Equal("delivered", status.GetProperty("status").GetString());
        Assert.Equal([sent.MessageId.ToString()], status.GetProperty("message_ids").EnumerateArray().Select(e => e.GetString()));

        Assert.True(root.GetProperty("unauthenticated").GetProperty("rejected").GetBoolean(), Describe());
        Assert.Equal(401, root.GetProperty("unauthenticated").GetProperty("status").GetInt32());
    }

    /// <summary>The production composition (no test seam) has no conformance endpoint, and /mcp lists none of its fixtures.</summary>
    [Fact]
    public async Task The_production_app_has_no_conformance_endpoint()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, api.BaseUrl + ConformanceEndpoint.Route)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");

        using var response = await http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await using var client = await api.ConnectAsync();
        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        Assert.DoesNotContain(tools, t => t.Name.StartsWith("test_", StringComparison.Ordinal) || t.Name == ConformanceTools.JsonSchema2020ToolName);
    }
}
