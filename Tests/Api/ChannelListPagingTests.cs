using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dovecote.Tests.Channels;
using ModelContextProtocol.Protocol;

namespace Dovecote.Tests.Api;

/// <summary>list_channels over MCP (the real Api on Kestrel, its embedded silo): pages, cursors, and their refusals.</summary>
public sealed class ChannelListPagingTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    [Fact]
    public async Task Pages_follow_next_cursor_through_every_channel_once_in_id_order()
    {
        var (tenant, key) = await CreateTenantWithChannelsAsync("pages", 7);
        await using var client = await api.ConnectAsync(key);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var arguments = new Dictionary<string, object?> { ["limit"] = 3 };
            if (cursor is not null) arguments["cursor"] = cursor;
            var result = await client.CallToolAsync("list_channels", arguments, cancellationToken: Ct);
            Assert.NotEqual(true, result.IsError);
            var structured = result.StructuredContent!.Value;
            var channels = structured.GetProperty("channels").EnumerateArray().ToList();
            Assert.All(channels, c => Assert.Equal("telegram", c.GetProperty("type").GetString()));
            Assert.All(channels, c => Assert.Equal(0, c.GetProperty("pending").GetInt32()));
            seen.AddRange(channels.Select(c => c.GetProperty("id").GetString()!));
            var next = structured.GetProperty("next_cursor"); // present on every page, null on the last
            cursor = next.ValueKind == JsonValueKind.Null ? null : next.GetString();
            if (cursor is not null) Assert.Contains($"cursor \"{cursor}\"", Text(result));
            else Assert.DoesNotContain("More channels follow", Text(result));
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"ch-{i}"), seen);
        Assert.DoesNotContain(tenant, string.Concat(seen));
    }

    [Fact]
    public async Task A_bad_limit_or_cursor_is_a_tool_error_and_another_tenants_cursor_shows_nothing_of_it()
    {
        var (_, key) = await CreateTenantWithChannelsAsync("cursor", 3);
        string firstPageCursor;
        await using (var owner = await api.ConnectAsync(key))
        {
            var first = await owner.CallToolAsync("list_channels", new Dictionary<string, object?> { ["limit"] = 1 }, cancellationToken: Ct);
            firstPageCursor = first.StructuredContent!.Value.GetProperty("next_cursor").GetString()!;
        }

        await using var other = await api.ConnectAsync(); // tenant "default"
        async Task<string> ErrorOf(Dictionary<string, object?> arguments)
        {
            var result = await other.CallToolAsync("list_channels", arguments, cancellationToken: Ct);
            Assert.True(result.IsError, Text(result));
            return Text(result);
        }

        Assert.Contains("limit must be 1 to 500", await ErrorOf(new() { ["limit"] = 0 }));
        Assert.Contains("limit must be 1 to 500", await ErrorOf(new() { ["limit"] = 501 }));
        Assert.Contains("cursor is not one list_channels gave you", await ErrorOf(new() { ["cursor"] = "garbage!" }));
        Assert.Contains("cursor is not one list_channels gave you", await ErrorOf(new() { ["cursor"] = new string('A', 10_000) }));
        var stolen = await ErrorOf(new() { ["cursor"] = firstPageCursor });
        Assert.Contains("cursor is not one list_channels gave you", stolen);
        Assert.DoesNotContain("ch-", stolen);

        // Without a cursor, tenant default sees its own channels only.
        var own = await other.CallToolAsync("list_channels", new Dictionary<string, object?>(), cancellationToken: Ct);
        Assert.DoesNotContain(own.StructuredContent!.Value.GetProperty("channels").EnumerateArray(), c => c.GetProperty("id").GetString()!.StartsWith("ch-"));
    }

    /// <summary>A tenant made over the admin API with <paramref name="count"/> Telegram channels "ch-0".. (created last first) and an API key.</summary>
    private async Task<(string Tenant, string Key)> CreateTenantWithChannelsAsync(string prefix, int count)
    {
        var tenant = $"{prefix}-{Guid.NewGuid():N}"[..20];
        using var admin = api.Admin();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Paging" }, Ct)).StatusCode);
        foreach (var i in Enumerable.Range(0, count).Reverse())
        {
            var put = await admin.PutAsJsonAsync($"/admin/tenants/{tenant}/channels/ch-{i}",
                new { type = "telegram", settings = new { botToken = "123456:paging-test", chatId = ChannelTestKit.UniqueChatId() } }, Ct);
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        var created = await admin.PostAsJsonAsync($"/admin/tenants/{tenant}/api-keys", new { name = "paging" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("key").GetString()!;

        // The board is told one-way: wait until it lists all of them, as an agent would see them.
        await using var client = await api.ConnectAsync(key);
        await ChannelBoardTests.WaitForAsync(async () =>
        {
            var list = await client.CallToolAsync("list_channels", new Dictionary<string, object?>(), cancellationToken: Ct);
            return list.StructuredContent!.Value.GetProperty("channels").GetArrayLength() == count;
        }, $"{count} channels of {tenant}");
        return (tenant, key);
    }
}
