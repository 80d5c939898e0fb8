using System.Net.Http.Json;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;
using Dovecote.Tests.OAuth;
using Microsoft.Playwright;

namespace Dovecote.Tests.TenantConsole;

/// <summary>
/// The console in Debian Chromium through Playwright, with JavaScript off (the console needs none): sign in, create a Telegram
/// channel pointing at the fake Telegram, send a test message and read the receipt, mint and revoke an API key, redrive a dead
/// letter. Screenshots of the main pages go to the test output (screenshots/console-*.png).
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class ConsoleBrowserTests(OAuthApiFixture api, ChromiumFixture chromium) : IClassFixture<OAuthApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_person_runs_their_tenant_from_the_console_without_javascript()
    {
        var tenant = $"browser-{Guid.NewGuid():N}"[..16];
        var password = $"pw-{Guid.NewGuid():N}";
        using (var created = await api.Admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = "Browser Corp", password }, Ct))
            Assert.True(created.IsSuccessStatusCode);
        await using var context = await chromium.NewContextAsync(javaScript: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);

        // Signed out, /console sends to the sign-in page and back.
        await page.GotoAsync($"{api.BaseUrl}/console");
        Assert.StartsWith($"{api.BaseUrl}/signin", page.Url);
        await page.GetByLabel("Tenant", new() { Exact = true }).FillAsync(tenant);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.WaitForURLAsync($"{api.BaseUrl}/console/{tenant}/channels");

        // A Telegram channel pointing at the fake Telegram.
        var chat = ChannelTestKit.UniqueChatId();
        await page.GetByLabel("Channel id").FillAsync("phone");
        await page.GetByLabel("Type", new() { Exact = true }).SelectOptionAsync("telegram");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("My phone");
        await page.GetByLabel("Telegram: Bot token").FillAsync("888001:browser-token-abcdef");
        await page.GetByLabel("Telegram: Chat id").FillAsync(chat);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add channel" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Channel 'phone' added.");

        // The test message and its receipt: delivered, with the message id the fake Telegram gave.
        await page.GetByRole(AriaRole.Button, new() { Name = "Send a test message" }).ClickAsync();
        var sent = Assert.Single(api.Telegram.Messages, m => m.ChatId == chat);
        var result = page.GetByRole(AriaRole.Table, new() { Name = "Test message" });
        await Expect(result).ToContainTextAsync("delivered");
        await Expect(result.Locator(".receipt")).ToHaveTextAsync($"{sent.MessageId}");
        await ScreenshotAsync(page, "channel");

        await page.GetByRole(AriaRole.Link, new() { Name = "Channels", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Channels" })).ToContainTextAsync("My phone");
        await ScreenshotAsync(page, "channels");

        // An API key: shown once, then revoked.
        await page.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await page.GetByLabel("Name (what uses it)").FillAsync("my agent");
        await page.GetByRole(AriaRole.Button, new() { Name = "Mint key" }).ClickAsync();
        var key = await page.Locator("#new-key").InnerTextAsync();
        Assert.StartsWith("dvc_", key);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await api.CallToolRawAsync(key, "list_channels")).Status);
        await ScreenshotAsync(page, "api-keys");
        await page.GetByRole(AriaRole.Table, new() { Name = "API keys" }).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("revoked");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await api.CallToolRawAsync(key, "list_channels")).Status);

        // A dead letter (the chat is not found once), redriven from the deliveries page.
        await page.GotoAsync($"{api.BaseUrl}/console/{tenant}/channels/phone");
        api.Telegram.Script(FakeTelegramServer.ChatNotFound());
        await page.GetByRole(AriaRole.Button, new() { Name = "Send a test message" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Test message" })).ToContainTextAsync("failed");
        await page.GetByRole(AriaRole.Link, new() { Name = "Deliveries" }).ClickAsync();
        var dead = page.GetByRole(AriaRole.Table, new() { Name = "Dead letters" });
        await Expect(dead).ToContainTextAsync("chat not found");
        await ScreenshotAsync(page, "deliveries");
        await dead.GetByRole(AriaRole.Button, new() { Name = "Redrive" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("1 dead letter(s) of 'phone' queued again.");
        await api.Telegram.WaitUntilAsync(() => api.Telegram.Messages.Count(m => m.ChatId == chat) == 2, because: "the redriven test message arrives");

        foreach (var (link, name) in new[] { ("Audit log", "audit"), ("Usage", "usage"), ("Members", "members"), ("Connected apps", "apps") })
        {
            await page.GetByRole(AriaRole.Link, new() { Name = link, Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
            await ScreenshotAsync(page, name);
        }
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Audit events" })).ToContainTextAsync("channel.redrive");

        // The operator view, after the operator token.
        await page.GotoAsync($"{api.BaseUrl}/console/operator");
        await page.GetByLabel("Operator token").FillAsync(OAuthApiFixture.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in as operator" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Tenants" })).ToContainTextAsync(tenant);
        await ScreenshotAsync(page, "operator");
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "screenshots", $"console-{name}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        TestContext.Current.AddAttachment($"console-{name}.png", await File.ReadAllBytesAsync(path, Ct), "image/png");
    }
}
