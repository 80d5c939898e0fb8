using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Tests.OAuth;

/// <summary>The consent page as served: status, headers, HTML and its POST form (null when the page has none).</summary>
public sealed record ConsentPage(HttpStatusCode Status, string Html, HttpResponseMessage Response, ConsentForm? Form)
{
    public string Header(string name) =>
        Response.Headers.TryGetValues(name, out var values) || Response.Content.Headers.TryGetValues(name, out values) ? string.Join(", ", values) : "";

    /// <summary>The text of the first role="alert" element, or null.</summary>
    public string? Alert => ConsentDriver.AlertText(Html);
}

/// <summary>A parsed consent form: where it posts, its named inputs with their values, and the decision buttons.</summary>
public sealed record ConsentForm(Uri Action, string Method, IReadOnlyDictionary<string, string> Fields, IReadOnlyList<string> Decisions)
{
    public string CsrfToken => Fields.TryGetValue("csrf_token", out var token) ? token : "";

    /// <summary>
    /// The Origin header a browser sends when it submits this form: "null" when the page was served with
    /// Referrer-Policy: no-referrer (Fetch spec; Chromium does this), else the page's origin.
    /// </summary>
    public string SubmitOrigin { get; init; } = "";
}

/// <summary>Where the authorization server sent the browser: the 302 Location and its query.</summary>
public sealed record AuthorizationRedirect(Uri Location, string? Code, string? State, string? Iss, string? Error)
{
    public static AuthorizationRedirect From(Uri location)
    {
        var query = QueryHelpers.ParseQuery(location.Query);
        string? Get(string name) => query.TryGetValue(name, out var value) ? value.ToString() : null;
        return new AuthorizationRedirect(location, Get("code"), Get("state"), Get("iss"), Get("error"));
    }
}

/// <summary>
/// A headless "browser" for the consent page: keeps cookies, never follows redirects (the 302 to the client's
/// redirect URI is the result), and fills in the form the way a user would. The parsing is regex over our own page.
/// </summary>
public sealed partial class ConsentDriver : IDisposable
{
    private readonly HttpClient _http;

    public ConsentDriver(Uri baseAddress)
    {
        BaseAddress = baseAddress;
        _http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false, UseCookies = true });
    }

    public Uri BaseAddress { get; }
    public CookieContainer Cookies { get; } = new();

    /// <summary>Headers sent with every request, e.g. X-Forwarded-For to stand in for another client address.</summary>
    public System.Net.Http.Headers.HttpRequestHeaders Headers => _http.DefaultRequestHeaders;

    /// <summary>GET /authorize...: the page, parsed. Does not assert the status (error pages are pages too).</summary>
    public async Task<ConsentPage> GetAuthorizePageAsync(Uri authorizeUri, CancellationToken cancellationToken = default)
    {
        var response = await _http.GetAsync(authorizeUri, Ct(cancellationToken));
        return await ReadPageAsync(response, authorizeUri, cancellationToken);
    }

    /// <summary>GET /authorize... and the consent form on it; fails the test when there is none.</summary>
    public async Task<ConsentForm> GetAuthorizeFormAsync(Uri authorizeUri, CancellationToken cancellationToken = default)
    {
        var page = await GetAuthorizePageAsync(authorizeUri, cancellationToken);
        Assert.True(page.Status == HttpStatusCode.OK && page.Form is not null, $"GET {authorizeUri}: {(int)page.Status} without a consent form:\n{page.Html}");
        return page.Form!;
    }

    /// <summary>
    /// Submits <paramref name="form"/> as the user would: tenant and password typed in (null leaves the field as served),
    /// the <paramref name="decision"/> button pressed. Returns the raw answer (302, 400, 401, 429...); the caller disposes it.
    /// </summary>
    public async Task<HttpResponseMessage> SubmitAsync(ConsentForm form, string? tenant, string? password, string decision,
        IReadOnlyDictionary<string, string?>? overrides = null, CancellationToken cancellationToken = default)
    {
        var fields = new Dictionary<string, string>(form.Fields, StringComparer.Ordinal);
        if (tenant is not null) fields["tenant"] = tenant;
        if (password is not null) fields["password"] = password;
        fields["decision"] = decision;
        foreach (var (name, value) in overrides ?? new Dictionary<string, string?>())
        {
            if (value is null) fields.Remove(name);
            else fields[name] = value;
        }
        using var request = new HttpRequestMessage(new HttpMethod(form.Method), form.Action) { Content = new FormUrlEncodedContent(fields) };
        // What a browser sends, so the server's Origin check sees what it will see in production.
        request.Headers.Add("Origin", form.SubmitOrigin.Length > 0 ? form.SubmitOrigin : form.Action.GetLeftPart(UriPartial.Authority));
        return await _http.SendAsync(request, Ct(cancellationToken));
    }

    /// <summary>Submits and parses the answer as a page (for the 400/401/429 re-renders).</summary>
    public async Task<ConsentPage> SubmitForPageAsync(ConsentForm form, string? tenant, string? password, string decision,
        IReadOnlyDictionary<string, string?>? overrides = null, CancellationToken cancellationToken = default)
    {
        var response = await SubmitAsync(form, tenant, password, decision, overrides, cancellationToken);
        return await ReadPageAsync(response, form.Action, cancellationToken);
    }

    /// <summary>The whole user journey: open the page, sign in (no password: as the signed-in person, picking <paramref name="tenant"/>), allow; asserts the 302 and returns the redirect's parameters.</summary>
    public async Task<AuthorizationRedirect> AuthorizeAsync(Uri authorizeUri, string tenant, string? password, CancellationToken cancellationToken = default)
    {
        var form = await GetAuthorizeFormAsync(authorizeUri, cancellationToken);
        using var response = await SubmitAsync(form, tenant, password, "allow", cancellationToken: cancellationToken);
        var body = await response.Content.ReadAsStringAsync(Ct(cancellationToken));
        Assert.True(response.StatusCode == HttpStatusCode.Found && response.Headers.Location is not null,
            $"POST /authorize (allow) answered {(int)response.StatusCode}, expected 302:\n{body}");
        return AuthorizationRedirect.From(Absolute(response.Headers.Location!, form.Action));
    }

    /// <summary>Parses the first POST form of <paramref name="html"/>: inputs with a name (value decoded) and the decision buttons.</summary>
    public static ConsentForm? ParseForm(string html, Uri pageUri)
    {
        var formMatch = FormPattern().Match(html);
        if (!formMatch.Success) return null;
        var formAttributes = Attributes(formMatch.Groups["open"].Value);
        var action = formAttributes.TryGetValue("action", out var a) && a.Length > 0 ? new Uri(pageUri, a) : pageUri;
        var method = formAttributes.TryGetValue("method", out var m) && m.Length > 0 ? m.ToUpperInvariant() : "GET";

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match input in InputPattern().Matches(formMatch.Groups["body"].Value))
        {
            var attributes = Attributes(input.Value);
            if (!attributes.TryGetValue("name", out var name) || name.Length == 0) continue;
            fields[name] = attributes.GetValueOrDefault("value", "");
        }
        var decisions = ButtonPattern().Matches(formMatch.Groups["body"].Value)
            .Select(b => Attributes(b.Value))
            .Where(b => b.GetValueOrDefault("name") == "decision")
            .Select(b => b.GetValueOrDefault("value", ""))
            .ToList();
        return new ConsentForm(action, method, fields, decisions);
    }

    /// <summary>The text of the first element with role="alert", tags stripped and whitespace collapsed.</summary>
    public static string? AlertText(string html)
    {
        var match = AlertPattern().Match(html);
        if (!match.Success) return null;
        return WebUtility.HtmlDecode(Whitespace().Replace(Tags().Replace(match.Groups["text"].Value, " "), " ")).Trim();
    }

    public void Dispose() => _http.Dispose();

    private static async Task<ConsentPage> ReadPageAsync(HttpResponseMessage response, Uri pageUri, CancellationToken cancellationToken)
    {
        var html = await response.Content.ReadAsStringAsync(Ct(cancellationToken));
        var noReferrer = response.Headers.TryGetValues("Referrer-Policy", out var policies)
            && policies.SelectMany(p => p.Split(',')).Select(p => p.Trim()).LastOrDefault(p => p.Length > 0) == "no-referrer";
        var form = ParseForm(html, pageUri) is { } parsed
            ? parsed with { SubmitOrigin = noReferrer ? "null" : pageUri.GetLeftPart(UriPartial.Authority) }
            : null;
        return new ConsentPage(response.StatusCode, html, response, form);
    }

    private static Uri Absolute(Uri location, Uri relativeTo) => location.IsAbsoluteUri ? location : new Uri(relativeTo, location);

    private static Dictionary<string, string> Attributes(string tag)
    {
        var attributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match attribute in AttributePattern().Matches(tag))
        {
            var value = attribute.Groups["dq"].Success ? attribute.Groups["dq"].Value
                : attribute.Groups["sq"].Success ? attribute.Groups["sq"].Value
                : attribute.Groups["bare"].Value;
            attributes.TryAdd(attribute.Groups["name"].Value, WebUtility.HtmlDecode(value));
        }
        return attributes;
    }

    private static CancellationToken Ct(CancellationToken given) => given.CanBeCanceled ? given : TestContext.Current.CancellationToken;

    [GeneratedRegex(@"(?<open><form\b[^>]*\bmethod\s*=\s*[""']?post[""']?[^>]*>)(?<body>.*?)</form>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex FormPattern();

    [GeneratedRegex(@"<input\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InputPattern();

    [GeneratedRegex(@"<button\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ButtonPattern();

    [GeneratedRegex(@"(?<name>[A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:""(?<dq>[^""]*)""|'(?<sq>[^']*)'|(?<bare>[^\s""'>]+)))?")]
    private static partial Regex AttributePattern();

    [GeneratedRegex(
        @"<(?<tag>[a-z][a-z0-9]*)\b[^>]*\brole\s*=\s*[""']?alert[""']?[^>]*>(?<text>.*?)</\k<tag>>",
        RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex AlertPattern();

    [GeneratedRegex(@"<[^>]+>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
