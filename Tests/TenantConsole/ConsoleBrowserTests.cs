using System.Net;
using System.Text.RegularExpressions;
using Dovecote.Tests.Accounts;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;
using Dovecote.Tests.OAuth;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;

namespace Dovecote.Tests.TenantConsole;

/// <summary>
/// The console in Debian Chromium through Playwright, with JavaScript off (the console needs none), signed in with the fake
/// GitHub: the owner creates a Telegram channel pointing at the fake Telegram, sends a test message and reads the receipt,
/// mints and revokes an API key, redrives a dead letter, invites a second GitHub person, who joins and connects an app through
/// the consent page; the owner removes them, and that app's token is refused at the next /mcp call. Screenshots of the main
/// pages go to the test output (screenshots/console-*.png). The tenant-password sign-in to the console is proven over HTTP
/// by <see cref="ConsoleTests"/>; in Chromium it would only repeat this journey.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed partial class ConsoleBrowserTests(AccountsApiFixture api, ChromiumFixture chromium) : IClassFixture<AccountsApiFixture>
{
    private const long OwnerId = 861001, MemberId = 861002;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_person_signed_in_with_GitHub_runs_their_tenant_and_removing_a_member_kills_their_grant()
    {
        api.GitHub.AddUser(OwnerId, "journey-owner", "Jo Owner", null, AccountsApiFixture.AllowedOrg);
        api.GitHub.AddUser(MemberId, "journey-member", "Mo Member", null, AccountsApiFixture.AllowedOrg);
        await using var ownerContext = await chromium.NewContextAsync(javaScript: false);
        var page = await ownerContext.NewPageAsync();

        // Signed out, /console sends to the sign-in page; GitHub (sign-up on) gives the person a tenant of their own.
        api.GitHub.SignInAs("journey-owner");
        await page.GotoAsync($"{api.BaseUrl}/console");
        Assert.StartsWith($"{api.BaseUrl}/signin?returnUrl=%2Fconsole", page.Url);
        await ScreenshotAsync(page, "signin");
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with GitHub" }).ClickAsync();
        await page.WaitForURLAsync(ChannelsPage());
        var tenant = ChannelsPage().Match(page.Url).Groups["tenant"].Value;
        Assert.Matches("^journey-owner-[a-z0-9]{6}$", tenant);
        await Expect(page.GetByText("Jo Owner")).ToBeVisibleAsync();

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
        var result = page.GetByRole(AriaRole.Table, new() { Name = "Test message" });
        await Expect(result).ToContainTextAsync("delivered");
        var sent = Assert.Single(api.Telegram.Messages, m => m.ChatId == chat);
        await Expect(result.Locator(".receipt")).ToHaveTextAsync($"{sent.MessageId}");
        await ScreenshotAsync(page, "channel");

        await page.GetByRole(AriaRole.Link, new() { Name = "Channels", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Channels" })).ToContainTextAsync("My phone");
        await ScreenshotAsync(page, "channels");

        // An API key: shown once, works at /mcp, then revoked and refused.
        await page.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await page.GetByLabel("Name (what uses it)").FillAsync("my agent");
        await page.GetByRole(AriaRole.Button, new() { Name = "Mint key" }).ClickAsync();
        var key = await page.Locator("#new-key").InnerTextAsync();
        Assert.StartsWith("dvc_", key);
        Assert.Equal(HttpStatusCode.OK, (await api.CallToolRawAsync(key, "list_channels")).Status);
        await ScreenshotAsync(page, "api-keys");
        await page.GetByRole(AriaRole.Table, new() { Name = "API keys" }).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CallToolRawAsync(key, "list_channels")).Status);

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

        // An invitation link for a second person.
        await page.GetByRole(AriaRole.Link, new() { Name = "Members", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create invitation link" }).ClickAsync();
        var link = await page.Locator("#invitation-link").InnerTextAsync();
        Assert.StartsWith($"{api.BaseUrl}/invitations/accept?token=dvi_{tenant}_", link);

        var accessToken = await MemberJoinsAndConnectsAnAppAsync(link, tenant);
        var connected = await api.CallToolRawAsync(accessToken, "list_channels");
        Assert.True(connected.Status == HttpStatusCode.OK && connected.Body.Contains("\"phone\""), $"{(int)connected.Status} {connected.Body}");

        // The owner sees the member and the app they connected, then removes the member.
        await page.GetByRole(AriaRole.Link, new() { Name = "Connected apps", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "OAuth grants" })).ToContainTextAsync("Claude");
        await ScreenshotAsync(page, "apps");
        await page.GetByRole(AriaRole.Link, new() { Name = "Members", Exact = true }).ClickAsync();
        var memberRow = page.GetByRole(AriaRole.Table, new() { Name = "Members" }).GetByRole(AriaRole.Row).Filter(new() { HasText = $"github:{MemberId}" });
        await Expect(memberRow).ToContainTextAsync("Mo Member");
        await ScreenshotAsync(page, "members");
        await memberRow.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"github:{MemberId} removed");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Members" })).Not.ToContainTextAsync($"github:{MemberId}");

        // One pod: the revocation also cleared its token-status cache, so the very next call is refused.
        var refused = await api.CallToolRawAsync(accessToken, "list_channels");
        Assert.True(refused.Status == HttpStatusCode.Unauthorized, $"{(int)refused.Status} {refused.Body}");

        foreach (var (section, name) in new[] { ("Audit log", "audit"), ("Usage", "usage") })
        {
            await page.GetByRole(AriaRole.Link, new() { Name = section, Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
            await ScreenshotAsync(page, name);
        }
        var audit = page.GetByRole(AriaRole.Table, new() { Name = "Audit events" });
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        foreach (var action in new[] { "channel.redrive", "account.invitation.accept", "account.member.remove" })
            await Expect(audit).ToContainTextAsync(action);

        // The operator view, after the operator token.
        await page.GotoAsync($"{api.BaseUrl}/console/operator");
        await page.GetByLabel("Operator token").FillAsync(OAuthApiFixture.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in as operator" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Tenants" })).ToContainTextAsync(tenant);
        await ScreenshotAsync(page, "operator");
    }

    /// <summary>
    /// The second person, in a browser of their own: opens the invitation, signs in with GitHub on the way, joins, then approves
    /// a Claude-shaped app for the owner's tenant on the consent page. Returns the app's access token.
    /// </summary>
    private async Task<string> MemberJoinsAndConnectsAnAppAsync(string invitationLink, string tenant)
    {
        await using var context = await chromium.NewContextAsync(javaScript: false);
        var page = await context.NewPageAsync();
        api.GitHub.SignInAs("journey-member");
        await page.GotoAsync(invitationLink);
        Assert.StartsWith($"{api.BaseUrl}/signin?returnUrl=%2Finvitations%2Faccept", page.Url);
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with GitHub" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Join {tenant}?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Join" }).ClickAsync();
        // Two tenants now (their own by sign-up, and the owner's): the console's picker.
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Your tenants" })).ToContainTextAsync(tenant);

        await using var site = await LoopbackSite.StartAsync();
        var client = await api.RegisterPublicClientAsync(site.CallbackUrl, "Claude");
        var pkce = Pkce.Create();
        await page.GotoAsync(api.AuthorizeUri(client.ClientId, site.CallbackUrl, $"{OAuthApiFixture.NotifyScope} {OAuthApiFixture.OfflineScope}", "st-j", pkce, api.McpUrl).ToString());
        await Expect(page.GetByText("Signed in as Mo Member.")).ToBeVisibleAsync();
        await page.GetByLabel("Tenant", new() { Exact = true }).SelectOptionAsync(tenant);
        await ScreenshotAsync(page, "consent-member");
        await page.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(site.CallbackUrl, StringComparison.Ordinal));
        var query = QueryHelpers.ParseQuery(new Uri(page.Url).Query);
        Assert.Equal("st-j", query["state"].ToString());
        var tokens = await api.RedeemCodeAsync(client.ClientId, query["code"].ToString(), pkce.Verifier, site.CallbackUrl);
        return tokens.GetProperty("access_token").GetString()!;
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "screenshots", $"console-{name}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        TestContext.Current.AddAttachment($"console-{name}.png", await File.ReadAllBytesAsync(path, Ct), "image/png");
    }

    [GeneratedRegex(@"/console/(?<tenant>[a-z0-9-]+)/channels$")]
    private static partial Regex ChannelsPage();
}
