using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dovecote.Tests.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Dovecote.Tests.Api;

/// <summary>Operator-set limits per tenant, through the real Api: a tenant that floods is refused, the others are not.</summary>
public sealed class TenantLimitTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    /// <summary>A tenant with the given limits, Telegram channels "a" and "b", and an API key for it.</summary>
    private async Task<(string Tenant, string Key)> TenantAsync(object? limits)
    {
        var tenant = $"t{Guid.NewGuid():N}"[..12];
        using var admin = api.Admin();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Limited", limits }, Ct)).StatusCode);
        foreach (var channel in new[] { "a", "b" })
        {
            var settings = new { botToken = "123456:limit-test", chatId = ChannelTestKit.UniqueChatId() };
            var put = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}/channels/{channel}", new { type = "telegram", settings }, Ct);
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        var created = await JsonOf(await admin.PostAsJsonAsync($"/admin/tenants/{tenant}/api-keys", new { name = "flood" }, Ct));
        return (tenant, created.GetProperty("key").GetString()!);
    }

    private static Task<CallToolResult> SendAsync(McpClient client, string message, params string[] channels) =>
        client.CallToolAsync("send_notification", new Dictionary<string, object?> { ["channels"] = channels, ["message"] = message, ["wait_seconds"] = 0 },
            cancellationToken: Ct).AsTask();

    [Fact]
    public async Task Sends_past_the_tenants_limit_are_tool_errors_naming_it_and_each_channel_of_a_fan_out_counts()
    {
        var (flooder, floodKey) = await TenantAsync(new { sendsPerMinute = 3 });
        var (other, otherKey) = await TenantAsync(null);
        await using var flood = await api.ConnectAsync(floodKey);
        await using var bystander = await api.ConnectAsync(otherKey);

        Assert.NotEqual(true, (await SendAsync(flood, "one", "a", "b")).IsError); // two sends
        var fanOut = await SendAsync(flood, "over the limit", "a", "b"); // two more, one left: refused whole
        var single = await SendAsync(flood, "three", "a"); // the refused fan-out counted nothing
        var past = await SendAsync(flood, "four", "a");
        var unaffected = await SendAsync(bystander, "still here", "a", "b");

        Assert.True(fanOut.IsError);
        Assert.Contains($"tenant '{flooder}' may send 3 notifications per minute", Text(fanOut));
        Assert.NotEqual(true, single.IsError);
        Assert.True(past.IsError);
        Assert.Matches($@"^tenant '{flooder}' may send 3 notifications per minute; retry in \d+ s$", Text(past));
        Assert.NotEqual(true, unaffected.IsError);

        // Refused calls were never audited: the limit comes before the audit.
        using var admin = api.Admin();
        var audit = await JsonOf(await admin.GetAsync($"/admin/tenants/{flooder}/audit", Ct));
        Assert.Equal(new[] { "a,b", "a" }, audit.EnumerateArray().Where(e => e.GetProperty("action").GetString() == "notification.send")
            .Select(e => e.GetProperty("target").GetString()!).ToArray());
        Assert.Equal(other, (await JsonOf(await admin.GetAsync($"/admin/tenants/{other}", Ct))).GetProperty("tenant").GetString());
    }

    [Fact]
    public async Task Limits_round_trip_through_put_and_get_and_omitted_ones_are_the_configured_defaults()
    {
        var tenant = $"t{Guid.NewGuid():N}"[..12];
        using var admin = api.Admin();
        async Task<JsonElement> LimitsAsync() => (await JsonOf(await admin.GetAsync($"/admin/tenants/{tenant}", Ct))).GetProperty("limits");

        var put = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Acme", limits = new { sendsPerMinute = 7, channels = 3 } }, Ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("""{"sendsPerMinute":7,"channels":3,"apiKeys":20,"oauthClients":50}""", (await LimitsAsync()).GetRawText());

        await admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Acme renamed" }, Ct); // no "limits": kept
        Assert.Equal(7, (await LimitsAsync()).GetProperty("sendsPerMinute").GetInt32());

        await admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Acme", limits = new { apiKeys = 2 } }, Ct); // replaced
        Assert.Equal("""{"sendsPerMinute":600,"channels":100,"apiKeys":2,"oauthClients":50}""", (await LimitsAsync()).GetRawText());

        var bad = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Acme", limits = new { sendsPerMinute = 0 } }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("limits.sendsPerMinute must be 1 to 100000", await bad.Content.ReadAsStringAsync(Ct));
        var huge = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Acme", limits = new { channels = 1_000_000 } }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.Equal(2, (await LimitsAsync()).GetProperty("apiKeys").GetInt32()); // a refused PUT changed nothing
    }

    [Fact]
    public async Task New_channels_and_api_keys_past_the_limits_are_refused_with_the_reason()
    {
        var tenant = $"t{Guid.NewGuid():N}"[..12];
        using var admin = api.Admin();
        await admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Small", limits = new { channels = 2, apiKeys = 1 } }, Ct);
        Task<HttpResponseMessage> PutChannel(string id) => admin.PutAsJsonAsync($"/admin/tenants/{tenant}/channels/{id}",
            new { type = "slack", settings = new { webhookUrl = "https://hooks.slack.example/services/x" } }, Ct);

        Assert.Equal(HttpStatusCode.OK, (await PutChannel("one")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PutChannel("two")).StatusCode);
        var third = await PutChannel("three");
        Assert.Equal(HttpStatusCode.OK, (await PutChannel("one")).StatusCode); // changing an existing channel is not a new one

        Assert.Equal(HttpStatusCode.BadRequest, third.StatusCode);
        Assert.Contains($"tenant '{tenant}' may have 2 channels and has 2", await third.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/admin/tenants/{tenant}/channels/three", Ct)).StatusCode);
        Assert.Equal(2, (await JsonOf(await admin.GetAsync($"/admin/tenants/{tenant}/channels", Ct))).GetArrayLength());

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/admin/tenants/{tenant}/api-keys", new { name = "first" }, Ct)).StatusCode);
        var second = await admin.PostAsJsonAsync($"/admin/tenants/{tenant}/api-keys", new { name = "second" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Contains($"tenant '{tenant}' may have 1 API keys and has 1", await second.Content.ReadAsStringAsync(Ct));
        Assert.Equal(1, (await JsonOf(await admin.GetAsync($"/admin/tenants/{tenant}/api-keys", Ct))).GetArrayLength());
    }

    [Fact]
    public async Task Get_delivery_status_with_a_null_or_huge_delivery_id_is_a_tool_error_that_does_not_echo_it()
    {
        await using var client = await api.ConnectAsync();

        var missing = await client.CallToolAsync("get_delivery_status", new Dictionary<string, object?> { ["delivery_id"] = null }, cancellationToken: Ct);
        var huge = new string('x', 60) + ":" + new string('y', 20_000);
        var unknown = await client.CallToolAsync("get_delivery_status", new Dictionary<string, object?> { ["delivery_id"] = huge }, cancellationToken: Ct);
        var longChannel = await client.CallToolAsync("get_delivery_status",
            new Dictionary<string, object?> { ["delivery_id"] = "telegram-phone:" + new string('z', 20_000) }, cancellationToken: Ct);

        Assert.True(missing.IsError);
        Assert.Equal("delivery_id is required: the one send_notification returned", Text(missing));
        Assert.True(unknown.IsError);
        Assert.True(longChannel.IsError);
        Assert.StartsWith("no delivery 'telegram-phone:zzz", Text(longChannel));
        Assert.InRange(Text(longChannel).Length, 1, 300);
        Assert.InRange(Text(unknown).Length, 1, 300);
    }
}
