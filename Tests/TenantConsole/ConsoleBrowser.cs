using System.Net;
using System.Text.RegularExpressions;
using Dovecote.Tests.OAuth;

namespace Dovecote.Tests.TenantConsole;

/// <summary>A console page as served: status, HTML, headers, and the alert or notice it shows.</summary>
public sealed record ConsolePage(HttpStatusCode Status, string Html, HttpResponseMessage Response)
{
    public string Header(string name) =>
        Response.Headers.TryGetValues(name, out var values) || Response.Content.Headers.TryGetValues(name, out values) ? string.Join(", ", values) : "";

    public string? Alert => ConsentDriver.AlertText(Html);

    public string? Location => Response.Headers.Location?.OriginalString;

    public override string ToString() => $"{(int)Status} {Location} {Html}";
}

/// <summary>
/// A headless "browser" for the console: keeps cookies, never follows redirects, and posts forms the way Chromium does from
/// a no-referrer page (Origin: null) with the CSRF token the last page carried.
/// </summary>
public sealed partial class ConsoleBrowser(Uri baseAddress, CookieContainer? cookies = null) : IDisposable
{
    private readonly HttpClient _http = new(new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), AllowAutoRedirect = false, UseCookies = true })
    {
        BaseAddress = baseAddress,
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The CSRF token of the last page that had a form; the console's token is the same for every form of a session.</summary>
    public string Csrf { get; private set; } = "";

    public static async Task<ConsoleBrowser> SignInWithPasswordAsync(string baseUrl, string tenant, string password)
    {
        var browser = new ConsoleBrowser(new Uri(baseUrl));
        await browser.GetAsync("/signin");
        var signedIn = await browser.PostAsync("/signin", ("tenant", tenant), ("password", password), ("returnUrl", "/console"));
        Assert.True(signedIn.Status == HttpStatusCode.Found && signedIn.Location == "/console", $"sign-in of {tenant}: {signedIn}");
        return browser;
    }

    public async Task<ConsolePage> GetAsync(string path)
    {
        var response = await _http.GetAsync(path, Ct);
        return await ReadAsync(response);
    }

    /// <summary>Posts the fields and the current CSRF token (a field named csrf_token among <paramref name="fields"/> replaces it; null drops it).</summary>
    public async Task<ConsolePage> PostAsync(string path, params (string Name, string? Value)[] fields)
    {
        var form = new Dictionary<string, string>(StringComparer.Ordinal) { ["csrf_token"] = Csrf };
        foreach (var (name, value) in fields)
        {
            if (value is null) form.Remove(name);
            else form[name] = value;
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("Origin", "null");
        return await ReadAsync(await _http.SendAsync(request, Ct));
    }

    /// <summary>GETs <paramref name="path"/> and asserts a 200.</summary>
    public async Task<ConsolePage> PageAsync(string path)
    {
        var page = await GetAsync(path);
        Assert.True(page.Status == HttpStatusCode.OK, $"GET {path}: {page}");
        return page;
    }

    /// <summary>POSTs and asserts a 200.</summary>
    public async Task<ConsolePage> SubmitAsync(string path, params (string Name, string? Value)[] fields)
    {
        var page = await PostAsync(path, fields);
        Assert.True(page.Status == HttpStatusCode.OK, $"POST {path}: {page}");
        return page;
    }

    private async Task<ConsolePage> ReadAsync(HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync(Ct);
        if (CsrfPattern().Match(html) is { Success: true } match) Csrf = WebUtility.HtmlDecode(match.Groups[1].Value);
        return new ConsolePage(response.StatusCode, html, response);
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("name=\"csrf_token\" value=\"([^\"]*)\"")]
    private static partial Regex CsrfPattern();
}
