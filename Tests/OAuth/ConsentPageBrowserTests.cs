using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Dovecote.Tests.OAuth;

/// <summary>
/// A tiny Kestrel site on its own loopback port (its own origin): records /callback hits (the OAuth redirect target)
/// and serves pages a test sets, e.g. a third-party page that frames the consent page.
/// </summary>
public sealed class LoopbackSite : IAsyncDisposable
{
    private readonly ConcurrentQueue<IReadOnlyDictionary<string, string>> _callbacks = new();
    private readonly ConcurrentDictionary<string, string> _pages = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public string Url { get; private set; } = "";
    public string CallbackUrl => $"{Url}/callback";
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Callbacks => [.. _callbacks];

    public static async Task<LoopbackSite> StartAsync()
    {
        var site = new LoopbackSite();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/callback", (HttpRequest request) =>
        {
            site._callbacks.Enqueue(request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()));
            return Results.Content("<!doctype html><html lang=en><title>Callback</title><h1 id=done>Signed in</h1></html>", "text/html");
        });
        app.MapGet("/pages/{name}", (string name) => site._pages.TryGetValue(name, out var html) ? Results.Content(html, "text/html") : Results.NotFound());
        await app.StartAsync(TestContext.Current.CancellationToken);
        site._app = app;
        site.Url = app.Urls.First();
        return site;
    }

    /// <summary>Serves <paramref name="html"/> at {Url}/pages/{name} and returns that URL.</summary>
    public string SetPage(string name, string html)
    {
        _pages[name] = html;
        return $"{Url}/pages/{name}";
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}

/// <summary>The consent page in a real browser (Debian Chromium via Playwright): sign in without JavaScript, deny,
/// wrong password, tampered CSRF, framing by another origin, and basic accessibility.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class ConsentPageBrowserTests(OAuthApiFixture api, ChromiumFixture chromium) : IClassFixture<OAuthApiFixture>
{
    private const string Scope = $"{OAuthApiFixture.NotifyScope} {OAuthApiFixture.OfflineScope}";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Signing_in_without_javascript_lands_on_the_callback_with_a_code_that_redeems_for_a_working_token()
    {
        await using var site = await LoopbackSite.StartAsync();
        var (client, pkce, state, authorize) = await NewAuthorizationAsync(site);
        await using var context = await chromium.NewContextAsync(javaScript: false);
        var page = await context.NewPageAsync();

        var opened = await page.GotoAsync(authorize.ToString());
        Assert.Equal(200, opened!.Status);
        Assert.Equal(OAuthApiFixture.DefaultTenant, await page.GetByLabel("Tenant", new() { Exact = true }).InputValueAsync()); // prefilled
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(OAuthApiFixture.DefaultPassword);
        var posted = await PressAsync(page, "Allow");
        Assert.True(posted.Status == 302, $"POST /authorize answered {await DescribeAsync(posted)}, expected 302");
        await page.WaitForURLAsync(url => url.StartsWith(site.CallbackUrl, StringComparison.Ordinal));

        var query = QueryHelpers.ParseQuery(new Uri(page.Url).Query);
        Assert.Equal(state, query["state"].ToString());
        Assert.Equal(api.BaseUrl, query["iss"].ToString());
        var code = query["code"].ToString();
        Assert.False(string.IsNullOrEmpty(code), page.Url);
        Assert.Equal(code, Assert.Single(site.Callbacks)["code"]); // the real callback server got it too

        var tokens = await api.RedeemCodeAsync(client.ClientId, code, pkce.Verifier, site.CallbackUrl);
        Assert.Equal("bearer", tokens.GetProperty("token_type").GetString()!.ToLowerInvariant());
        var call = await api.CallToolRawAsync(tokens.GetProperty("access_token").GetString(), "list_channels");
        Assert.True(call.Status == HttpStatusCode.OK, $"{(int)call.Status} {call.Body}");
        var channels = call.Message!.Value.GetProperty("result").GetProperty("structuredContent").GetProperty("channels");
        Assert.Contains(channels.EnumerateArray(), c => c.GetProperty("id").GetString() == OAuthApiFixture.SeededChannel);
    }

    [Fact]
    public async Task Deny_sends_access_denied_to_the_callback_and_no_code()
    {
        await using var site = await LoopbackSite.StartAsync();
        var (_, _, state, authorize) = await NewAuthorizationAsync(site);
        await using var context = await chromium.NewContextAsync(javaScript: false);
        var page = await context.NewPageAsync();

        await page.GotoAsync(authorize.ToString());
        var posted = await PressAsync(page, "Deny");
        Assert.True(posted.Status == 302, $"POST /authorize answered {await DescribeAsync(posted)}, expected 302");
        await page.WaitForURLAsync(url => url.StartsWith(site.CallbackUrl, StringComparison.Ordinal));

        var callback = Assert.Single(site.Callbacks);
        Assert.Equal("access_denied", callback.GetValueOrDefault("error"));
        Assert.Equal(state, callback.GetValueOrDefault("state"));
        Assert.False(callback.ContainsKey("code"));
    }

    [Fact]
    public async Task A_wrong_password_shows_an_alert_with_401_and_no_redirect_and_the_form_works_again()
    {
        await using var site = await LoopbackSite.StartAsync();
        var (_, _, _, authorize) = await NewAuthorizationAsync(site);
        await using var context = await chromium.NewContextAsync(javaScript: false);
        var page = await context.NewPageAsync();
        await page.GotoAsync(authorize.ToString());
        var firstCsrf = await page.Locator("input[name=csrf_token]").InputValueAsync();

        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("not-the-password");
        var answer = await PressAsync(page, "Allow");
        await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);

        Assert.True(answer.Status == 401, $"POST /authorize answered {await DescribeAsync(answer)}, expected 401");
        Assert.StartsWith($"{api.BaseUrl}/authorize", page.Url);
        var alert = page.GetByRole(AriaRole.Alert);
        Assert.Contains("Wrong tenant or password.", await alert.InnerTextAsync());
        Assert.Empty(site.Callbacks);
        Assert.False(string.IsNullOrEmpty(firstCsrf));
        Assert.False(string.IsNullOrEmpty(await page.Locator("input[name=csrf_token]").InputValueAsync()));

        // The form came back with a usable CSRF token: the right password now goes through.
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(OAuthApiFixture.DefaultPassword);
        var retried = await PressAsync(page, "Allow");
        Assert.True(retried.Status == 302, $"POST /authorize (retry) answered {await DescribeAsync(retried)}, expected 302");
        await page.WaitForURLAsync(url => url.StartsWith(site.CallbackUrl, StringComparison.Ordinal));
        Assert.False(string.IsNullOrEmpty(Assert.Single(site.Callbacks).GetValueOrDefault("code")));
    }

    [Theory]
    [InlineData("tampered-hidden-input")]
    [InlineData("deleted-cookie")]
    public async Task A_tampered_or_missing_csrf_token_gets_400_with_an_alert_and_no_code(string attack)
    {
        await using var site = await LoopbackSite.StartAsync();
        var (_, _, _, authorize) = await NewAuthorizationAsync(site);
        await using var context = await chromium.NewContextAsync(javaScript: true);
        var page = await context.NewPageAsync();
        await page.GotoAsync(authorize.ToString());
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(OAuthApiFixture.DefaultPassword);
        if (attack == "deleted-cookie")
        {
            Assert.Contains(await context.CookiesAsync(), c => c.Name == "dovecote_csrf");
            await context.ClearCookiesAsync();
        }
        else
        {
            var changed = await page.EvaluateAsync<string>(
                "() => { const i = document.querySelector('input[name=csrf_token]'); i.value = i.value.split('').reverse().join('') + 'x'; return i.value; }");
            Assert.False(string.IsNullOrEmpty(changed));
        }

        var answer = await PressAsync(page, "Allow");
        await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);

        Assert.True(answer.Status == 400, $"POST /authorize answered {await DescribeAsync(answer)}, expected 400");
        Assert.Null(await answer.HeaderValueAsync("location"));
        Assert.False(string.IsNullOrWhiteSpace(await page.GetByRole(AriaRole.Alert).InnerTextAsync()));
        Assert.StartsWith($"{api.BaseUrl}/authorize", page.Url);
        Assert.Empty(site.Callbacks);
    }

    [Fact]
    public async Task Another_origin_cannot_frame_the_consent_page()
    {
        await using var site = await LoopbackSite.StartAsync();
        await using var attacker = await LoopbackSite.StartAsync(); // another port: another origin
        var (_, _, _, authorize) = await NewAuthorizationAsync(site);
        // A control frame from a third origin that sends no framing headers proves frames do render here.
        var control = site.SetPage(
            "control",
            "<!doctype html><html lang=en><title>c</title><form method=post><input name=csrf_token value=control></form></html>");
        var framer = attacker.SetPage("framer", $"""
            <!doctype html><html lang="en"><title>Totally legit</title>
            <iframe id="consent" name="consent" src="{WebUtility.HtmlEncode(authorize.ToString())}" width="800" height="600"></iframe>
            <iframe id="control" name="control" src="{control}"></iframe></html>
            """);
        await using var context = await chromium.NewContextAsync(javaScript: true);
        var page = await context.NewPageAsync();

        await page.GotoAsync(framer, new() { WaitUntil = WaitUntilState.Load }); // load waits for both frames, blocked or not

        var controlFrame = page.Frames.Single(f => f.Name == "control");
        Assert.Equal(1, await controlFrame.Locator("input[name=csrf_token]").CountAsync());
        var consentFrame = page.Frames.Single(f => f.Name == "consent");
        Assert.False(consentFrame.Url.StartsWith(api.BaseUrl, StringComparison.Ordinal) && await consentFrame.Locator("form").CountAsync() > 0,
            $"the consent form rendered inside a frame of {attacker.Url} (frame URL {consentFrame.Url})");
        Assert.Equal(0, await consentFrame.Locator("input[name=csrf_token]").CountAsync());
        Assert.Equal(0, await consentFrame.Locator("input[type=password]").CountAsync());

        // And the headers themselves, on the GET and on POST answers (every /authorize response).
        using var browser = api.NewConsentDriver();
        var get = await browser.GetAuthorizePageAsync(authorize, Ct);
        var wrong = await browser.SubmitForPageAsync(get.Form!, OAuthApiFixture.DefaultTenant, "not-the-password", "allow", cancellationToken: Ct);
        var tampered = await browser.SubmitForPageAsync(wrong.Form ?? get.Form!, OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword, "allow",
            new Dictionary<string, string?> { ["csrf_token"] = "tampered" }, Ct);
        foreach (var answer in new[] { get, wrong, tampered })
        {
            var what = $"{(int)answer.Status} response ({answer.Html[..Math.Min(200, answer.Html.Length)]})";
            Assert.True(answer.Header("Content-Security-Policy").Contains("frame-ancestors 'none'", StringComparison.Ordinal),
                $"{what}: Content-Security-Policy '{answer.Header("Content-Security-Policy")}'");
            Assert.True(
                answer.Header("X-Frame-Options").Equals("DENY", StringComparison.OrdinalIgnoreCase),
                $"{what}: X-Frame-Options '{answer.Header("X-Frame-Options")}'");
            Assert.True(answer.Header("Referrer-Policy") == "no-referrer", $"{what}: Referrer-Policy '{answer.Header("Referrer-Policy")}'");
            Assert.True(
                answer.Header("Cache-Control").Contains("no-store", StringComparison.Ordinal),
                $"{what}: Cache-Control '{answer.Header("Cache-Control")}'");
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Unauthorized, HttpStatusCode.BadRequest], new[] { get.Status, wrong.Status, tampered.Status });
    }

    [Fact]
    public async Task The_page_is_labelled_titled_and_says_who_is_asking_for_what()
    {
        await using var site = await LoopbackSite.StartAsync();
        var (client, _, _, authorize) = await NewAuthorizationAsync(
            site,
            $"{OAuthApiFixture.NotifyScope} {OAuthApiFixture.EnvReadScope} {OAuthApiFixture.OfflineScope}");
        await using var context = await chromium.NewContextAsync(javaScript: true);
        var page = await context.NewPageAsync();
        await page.GotoAsync(authorize.ToString());

        Assert.False(string.IsNullOrWhiteSpace(await page.TitleAsync()), "the page has no <title>");
        Assert.False(string.IsNullOrWhiteSpace(await page.Locator("html").GetAttributeAsync("lang")), "<html> has no lang");
        // Every visible input has a <label for> naming it (no placeholder-only fields).
        var unlabelled = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(i => !i.id || !document.querySelector(`label[for="${CSS.escape(i.id)}"]`)?.textContent.trim())
                .map(i => i.outerHTML)
            """);
        Assert.Empty(unlabelled);
        Assert.Equal("password", await page.GetByLabel("Password", new() { Exact = true }).GetAttributeAsync("type"));
        Assert.Equal(1, await page.GetByRole(AriaRole.Button, new() { Name = "Allow", Exact = true }).CountAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Button, new() { Name = "Deny", Exact = true }).CountAsync());

        var text = await page.Locator("body").InnerTextAsync();
        Assert.Contains(client.Json.GetProperty("client_name").GetString()!, text);
        Assert.Contains(new Uri(site.Url).Authority, text); // the redirect host
        Assert.Contains(OAuthApiFixture.NotifyScope, text);
        // The high-privilege scope says in words what it risks.
        var envItem = await page.Locator("li", new() { HasText = OAuthApiFixture.EnvReadScope }).InnerTextAsync();
        Assert.Matches("(?i)secret|password|key", envItem);
        var notifyItem = await page.Locator("li", new() { HasText = OAuthApiFixture.NotifyScope }).InnerTextAsync();
        Assert.DoesNotMatch("(?i)secret|password", notifyItem);
        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "consent-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        TestContext.Current.AddAttachment("consent-page.png", await File.ReadAllBytesAsync(screenshot, Ct), "image/png");
        TestContext.Current.SendDiagnosticMessage($"consent page screenshot: {screenshot}");
    }

    /// <summary>Presses a consent button; the answer to the form POST (the 302 itself when it redirects).</summary>
    private Task<IResponse> PressAsync(IPage page, string button) => page.RunAndWaitForResponseAsync(
        () => page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync(),
        r => r.Request.Method == "POST" && r.Url.StartsWith($"{api.BaseUrl}/authorize", StringComparison.Ordinal));

    private static async Task<string> DescribeAsync(IResponse response)
    {
        try
        {
            return $"{response.Status}: {await response.TextAsync()}";
        }
        catch (PlaywrightException)
        {
            return response.Status.ToString(); // a redirect has no body to read
        }
    }

    /// <summary>A public client registered for the site's callback, and a fresh PKCE authorize URL for it.</summary>
    private async Task<(RegisteredClient Client, Pkce Pkce, string State, Uri Authorize)> NewAuthorizationAsync(LoopbackSite site, string scope = Scope)
    {
        var client = await api.RegisterPublicClientAsync(site.CallbackUrl, $"Browser test {Guid.NewGuid():N}"[..20]);
        var pkce = Pkce.Create();
        var state = Pkce.Base64Url(Guid.NewGuid().ToByteArray());
        return (client, pkce, state, api.AuthorizeUri(client.ClientId, site.CallbackUrl, scope, state, pkce));
    }
}
