using System.Net;
using Dovecote.Tests.OAuth;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;

namespace Dovecote.Tests.Accounts;

/// <summary>
/// In Debian Chromium (Playwright, JavaScript off): an app's consent page, "Sign in with GitHub" through the fake GitHub and
/// back, then Allow: the browser's own cookie handling carries the correlation cookie and the session across the hops.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class AccountBrowserTests(AccountsApiFixture api, ChromiumFixture chromium) : IClassFixture<AccountsApiFixture>
{
    [Fact]
    public async Task Signing_in_with_GitHub_from_the_consent_page_comes_back_to_it_and_Allow_issues_a_working_code()
    {
        api.GitHub.AddUser(840001, AccountsApiFixture.AllowedLogin, "The Octocat");
        api.GitHub.SignInAs(AccountsApiFixture.AllowedLogin);
        await using var site = await LoopbackSite.StartAsync();
        var client = await api.RegisterPublicClientAsync(site.CallbackUrl, "Claude");
        var pkce = Pkce.Create();
        var authorize = api.AuthorizeUri(client.ClientId, site.CallbackUrl, $"{OAuthApiFixture.NotifyScope} {OAuthApiFixture.OfflineScope}", "st-1", pkce);
        await using var context = await chromium.NewContextAsync(javaScript: false);
        var page = await context.NewPageAsync();

        await page.GotoAsync(authorize.ToString());
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with GitHub" }).ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith($"{api.BaseUrl}/authorize?", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByText("Signed in as The Octocat.")).ToBeVisibleAsync();
        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "consent-signed-in.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });

        await page.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(site.CallbackUrl, StringComparison.Ordinal));
        var query = QueryHelpers.ParseQuery(new Uri(page.Url).Query);
        Assert.Equal("st-1", query["state"].ToString());
        var tokens = await api.RedeemCodeAsync(client.ClientId, query["code"].ToString(), pkce.Verifier, site.CallbackUrl);
        var call = await api.CallToolRawAsync(tokens.GetProperty("access_token").GetString(), "list_channels");
        Assert.True(call.Status == HttpStatusCode.OK, $"{(int)call.Status} {call.Body}");
    }
}
