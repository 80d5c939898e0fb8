using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dovecote.Tests.OAuth;

/// <summary>
/// A client's web site on loopback serving its metadata documents at /{name}: each document is what the test set, and
/// every request is counted per path. Any 127.0.0.0/8 address works as the host, so a test can have two sites on
/// different hosts. "/slow" waits until the server is disposed (a client that never answers).
/// </summary>
public sealed class ClientMetadataServer(string host = "127.0.0.1") : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _hits = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;

    // The OS may hand a later test the same port, and the Api caches documents per URL for an hour: a prefix of its
    // own keeps every server's URLs new.
    private readonly string _prefix = "/" + Guid.NewGuid().ToString("N");

    public string BaseUrl { get; private set; } = "";

    public string UrlOf(string path) => BaseUrl + _prefix + path;

    public int Hits(string path) => _hits.GetValueOrDefault(path);

    public async Task StartAsync()
    {
        BaseUrl = $"http://{host}:{FreePorts.Next()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(BaseUrl);
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(async context =>
        {
            var path = context.Request.Path.Value ?? "";
            if (path.StartsWith(_prefix, StringComparison.Ordinal)) path = path[_prefix.Length..];
            _hits.AddOrUpdate(path, 1, (_, n) => n + 1);
            if (_routes.TryGetValue(path, out var handler)) await handler(context);
            else context.Response.StatusCode = StatusCodes.Status404NotFound;
        });
        await _app.StartAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Serves <paramref name="document"/> at <paramref name="path"/> as application/json with a Content-Length.</summary>
    public void Serve(string path, JsonObject document) => Serve(path, document.ToJsonString(), chunked: false);

    /// <summary>Serves raw JSON text; <paramref name="chunked"/> sends it without a Content-Length, in pieces.</summary>
    public void Serve(string path, string json, bool chunked) => _routes[path] = async context =>
    {
        context.Response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(json);
        if (!chunked)
        {
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
            return;
        }
        await context.Response.StartAsync(context.RequestAborted);
        foreach (var piece in bytes.Chunk(4096))
        {
            await context.Response.Body.WriteAsync(piece, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    };

    /// <summary>Answers <paramref name="path"/> only once this server is disposed (or the caller gives up).</summary>
    public void Hang(string path) => _routes[path] = async context =>
    {
        try
        {
            await _release.Task.WaitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            return; // the Api gave up, as it should
        }
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
    };

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        if (_app is not null) await _app.DisposeAsync();
    }
}

/// <summary>
/// Client ID Metadata Documents: a client_id that is the URL of the client's metadata (here http on loopback, which
/// DOVECOTE_ALLOW_PRIVATE_TARGETS=true permits). The Api fetches it at /authorize, caches it, and refuses a bad one
/// with its error page, never a redirect.
/// </summary>
public sealed class ClientMetadataDocumentTests(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly ClientMetadataServer _site = new();
    private readonly string _redirectUri = $"http://127.0.0.1:{FreePorts.Next()}/cb";

    public ValueTask InitializeAsync() => new(_site.StartAsync());

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    private JsonObject Document(string path, string? clientId = null, string? redirectUri = null) => new()
    {
        ["client_id"] = clientId ?? _site.UrlOf(path),
        ["client_name"] = "CIMD Test",
        ["redirect_uris"] = new JsonArray(redirectUri ?? _redirectUri),
        ["token_endpoint_auth_method"] = "none",
        ["grant_types"] = new JsonArray("authorization_code", "refresh_token"),
        ["response_types"] = new JsonArray("code"),
    };

    private Uri Authorize(string clientId, Pkce pkce, string? redirectUri = null) =>
        api.AuthorizeUri(clientId, redirectUri ?? _redirectUri, Clients.Scope, "st-cimd", pkce);

    /// <summary>The authorize GET must show the error page: 400, no redirect, no consent form; returns its decoded text.</summary>
    private static string AssertErrorPage(ConsentPage page)
    {
        Assert.True(page.Status == HttpStatusCode.BadRequest, $"GET /authorize: {(int)page.Status}, expected the 400 error page:\n{page.Html}");
        Assert.Null(page.Response.Headers.Location);
        Assert.Null(page.Form);
        Assert.StartsWith("text/html", page.Response.Content.Headers.ContentType?.MediaType);
        return WebUtility.HtmlDecode(page.Html);
    }

    [Fact]
    public async Task A_document_client_signs_in_redeems_its_code_and_calls_a_tool()
    {
        _site.Serve("/client.json", Document("/client.json"));
        var clientId = _site.UrlOf("/client.json");
        var pkce = Pkce.Create();
        using var browser = api.NewConsentDriver();

        var page = await browser.GetAuthorizePageAsync(Authorize(clientId, pkce), Ct);
        Assert.True(page.Status == HttpStatusCode.OK && page.Form is not null, $"GET /authorize: {(int)page.Status}\n{page.Html}");
        Assert.Contains("CIMD Test", page.Html);
        Assert.Equal(1, _site.Hits("/client.json"));

        using var answer = await browser.SubmitAsync(
            page.Form!,
            OAuthApiFixture.DefaultTenant,
            OAuthApiFixture.DefaultPassword,
            "allow",
            cancellationToken: Ct);
        Assert.True(answer.StatusCode == HttpStatusCode.Found, $"POST /authorize: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync(Ct)}");
        var redirect = AuthorizationRedirect.From(answer.Headers.Location!);
        Assert.StartsWith(_redirectUri + "?", redirect.Location.ToString());
        Assert.Equal("st-cimd", redirect.State);

        var tokens = await api.RedeemCodeAsync(clientId, redirect.Code!, pkce.Verifier, _redirectUri);
        var call = await api.CallToolRawAsync(tokens.GetProperty("access_token").GetString(), "list_channels");
        Assert.True(call.Status == HttpStatusCode.OK, $"list_channels: {(int)call.Status} {call.Body}");
        Assert.Contains(OAuthApiFixture.SeededChannel, call.Body);
        Assert.Equal(1, _site.Hits("/client.json"));

        // Within the cache hour the document is not fetched again.
        using var again = api.NewConsentDriver();
        var second = await again.GetAuthorizePageAsync(Authorize(clientId, Pkce.Create()), Ct);
        Assert.True(second.Status == HttpStatusCode.OK && second.Form is not null, $"second GET /authorize: {(int)second.Status}\n{second.Html}");
        Assert.Contains("CIMD Test", second.Html);
        Assert.Equal(1, _site.Hits("/client.json"));
    }

    [Fact]
    public async Task A_document_whose_client_id_is_not_its_url_is_refused()
    {
        _site.Serve("/client.json", Document("/client.json", clientId: _site.UrlOf("/someone-else.json")));
        using var browser = api.NewConsentDriver();

        var text = AssertErrorPage(await browser.GetAuthorizePageAsync(Authorize(_site.UrlOf("/client.json"), Pkce.Create()), Ct));

        Assert.Contains("client_id must equal its URL", text);
        Assert.Equal(1, _site.Hits("/client.json"));
    }

    [Fact]
    public async Task A_redirect_uri_the_document_does_not_list_is_refused()
    {
        _site.Serve("/client.json", Document("/client.json"));
        using var browser = api.NewConsentDriver();

        var elsewhere = $"http://127.0.0.1:{FreePorts.Next()}/elsewhere";
        AssertErrorPage(await browser.GetAuthorizePageAsync(Authorize(_site.UrlOf("/client.json"), Pkce.Create(), elsewhere), Ct));
        var https = "https://attacker.example/cb";
        AssertErrorPage(await browser.GetAuthorizePageAsync(Authorize(_site.UrlOf("/client.json"), Pkce.Create(), https), Ct));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_document_larger_than_16_KiB_is_refused(bool chunked)
    {
        var document = Document("/client.json");
        document["padding"] = new string('x', 17 * 1024);
        _site.Serve("/client.json", document.ToJsonString(), chunked);
        using var browser = api.NewConsentDriver();

        var text = AssertErrorPage(await browser.GetAuthorizePageAsync(Authorize(_site.UrlOf("/client.json"), Pkce.Create()), Ct));

        Assert.Contains("larger than 16 KiB", text);
    }

    [Fact]
    public async Task A_document_with_an_overlong_redirect_uri_is_refused_like_register_would()
    {
        _site.Serve("/client.json", Document("/client.json", redirectUri: $"http://127.0.0.1:{FreePorts.Next()}/{new string('r', 2100)}"));
        using var browser = api.NewConsentDriver();

        var text = AssertErrorPage(await browser.GetAuthorizePageAsync(Authorize(_site.UrlOf("/client.json"), Pkce.Create()), Ct));

        Assert.Contains("at most 2048 characters", text);
        Assert.Equal(1, _site.Hits("/client.json"));
    }

    [Fact]
    public async Task A_document_url_that_answers_404_is_refused()
    {
        using var browser = api.NewConsentDriver();

        var text = AssertErrorPage(await browser.GetAuthorizePageAsync(Authorize(_site.UrlOf("/missing.json"), Pkce.Create()), Ct));

        Assert.Contains("404", text);
        Assert.Equal(1, _site.Hits("/missing.json"));
    }

    [Fact]
    public async Task A_document_that_is_not_json_is_refused()
    {
        _site.Serve("/client.json", "<html>not a document</html>", chunked: false);
        using var browser = api.NewConsentDriver();

        var text = AssertErrorPage(await browser.GetAuthorizePageAsync(Authorize(_site.UrlOf("/client.json"), Pkce.Create()), Ct));

        Assert.Contains("not valid JSON", text);
    }

    [Fact]
    public async Task A_confidential_document_client_is_refused()
    {
        var document = Document("/client.json");
        document["token_endpoint_auth_method"] = "client_secret_post";
        _site.Serve("/client.json", document);
        using var browser = api.NewConsentDriver();

        var text = AssertErrorPage(await browser.GetAuthorizePageAsync(Authorize(_site.UrlOf("/client.json"), Pkce.Create()), Ct));

        Assert.Contains("public", text);
    }

    [Fact]
    public async Task A_document_server_that_never_answers_times_out_after_5_seconds()
    {
        _site.Hang("/slow.json");
        using var browser = api.NewConsentDriver();
        var started = DateTimeOffset.UtcNow;

        var text = AssertErrorPage(await browser.GetAuthorizePageAsync(Authorize(_site.UrlOf("/slow.json"), Pkce.Create()), Ct));

        Assert.Contains("fetching the client metadata document timed out", text);
        Assert.Equal(1, _site.Hits("/slow.json"));
        Assert.InRange(DateTimeOffset.UtcNow - started, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(30));
    }
}

/// <summary>
/// Closed registration with DOVECOTE_CIMD_ALLOWED_HOSTS=127.0.0.1: a document from 127.0.0.1 is accepted, one from
/// 127.0.0.2 (also loopback, also reachable, but not on the list) is refused before it is fetched.
/// </summary>
public sealed class ClosedRegistrationDocumentTests(ClosedRegistrationWithDocumentHostsOAuthApiFixture api)
    : IClassFixture<ClosedRegistrationWithDocumentHostsOAuthApiFixture>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly ClientMetadataServer _allowed = new("127.0.0.1");
    private readonly ClientMetadataServer _other = new("127.0.0.2");
    private readonly string _redirectUri = $"http://127.0.0.1:{FreePorts.Next()}/cb";

    public async ValueTask InitializeAsync()
    {
        await _allowed.StartAsync();
        await _other.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _allowed.DisposeAsync();
        await _other.DisposeAsync();
    }

    private JsonObject Document(ClientMetadataServer site, string path) => new()
    {
        ["client_id"] = site.UrlOf(path),
        ["client_name"] = "Closed CIMD Test",
        ["redirect_uris"] = new JsonArray(_redirectUri),
        ["token_endpoint_auth_method"] = "none",
    };

    [Fact]
    public async Task A_document_from_a_host_not_on_the_allowlist_is_refused_without_a_fetch()
    {
        _other.Serve("/client.json", Document(_other, "/client.json"));
        using var browser = api.NewConsentDriver();

        var page = await browser.GetAuthorizePageAsync(api.AuthorizeUri(_other.UrlOf("/client.json"), _redirectUri, Clients.Scope, "st", Pkce.Create()), Ct);

        Assert.True(page.Status == HttpStatusCode.BadRequest, $"GET /authorize: {(int)page.Status}\n{page.Html}");
        Assert.Null(page.Form);
        Assert.Null(page.Response.Headers.Location);
        Assert.Contains("DOVECOTE_CIMD_ALLOWED_HOSTS", WebUtility.HtmlDecode(page.Html));
        Assert.Equal(0, _other.Hits("/client.json"));
        // Control: the site is up and counts requests, so a fetch by the Api would have shown above.
        using var http = new HttpClient();
        using var direct = await http.GetAsync(_other.UrlOf("/client.json"), Ct);
        Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
        Assert.Equal(1, _other.Hits("/client.json"));
    }

    [Fact]
    public async Task A_document_from_an_allowlisted_host_opens_the_consent_page()
    {
        _allowed.Serve("/client.json", Document(_allowed, "/client.json"));
        using var browser = api.NewConsentDriver();

        var page = await browser.GetAuthorizePageAsync(api.AuthorizeUri(_allowed.UrlOf("/client.json"), _redirectUri, Clients.Scope, "st", Pkce.Create()), Ct);

        Assert.True(page.Status == HttpStatusCode.OK && page.Form is not null, $"GET /authorize: {(int)page.Status}\n{page.Html}");
        Assert.Contains("Closed CIMD Test", page.Html);
        Assert.Equal(1, _allowed.Hits("/client.json"));
    }

    [Fact]
    public async Task Discovery_advertises_documents_but_no_registration_endpoint()
    {
        using var http = new HttpClient();
        var metadata = await Discovery.GetJsonAsync(http, api.BaseUrl + "/.well-known/oauth-authorization-server");

        Assert.False(metadata.TryGetProperty("registration_endpoint", out var endpoint), $"registration_endpoint: {endpoint}");
        Assert.True(metadata.GetProperty("client_id_metadata_document_supported").GetBoolean());
    }
}

/// <summary>A registration budget of two per minute, so the third new metadata document from one address is refused.</summary>
public sealed class TightRegistrationLimitOAuthApiFixture : OAuthApiFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--OAuth:RegistrationsPerAddressPerMinute=2"];
}

public sealed class ClientMetadataDocumentLimitTests(TightRegistrationLimitOAuthApiFixture api)
    : IClassFixture<TightRegistrationLimitOAuthApiFixture>, IAsyncLifetime
{
    private readonly ClientMetadataServer _site = new();

    public ValueTask InitializeAsync() => new(_site.StartAsync());

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    [Fact]
    public async Task New_metadata_documents_count_against_the_registration_limit()
    {
        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/cb";
        using var browser = api.NewConsentDriver();
        var pages = new List<ConsentPage>();
        for (var i = 0; i < 3; i++)
        {
            var path = $"/client-{i}.json";
            _site.Serve(path, new JsonObject
            {
                ["client_id"] = _site.UrlOf(path),
                ["client_name"] = $"Limited {i}",
                ["redirect_uris"] = new JsonArray(redirect),
                ["token_endpoint_auth_method"] = "none",
            });
            pages.Add(await browser.GetAuthorizePageAsync(api.AuthorizeUri(_site.UrlOf(path), redirect, OAuthApiFixture.NotifyScope, "st", Pkce.Create()),
                TestContext.Current.CancellationToken));
        }

        Assert.All(pages.Take(2), page => Assert.NotNull(page.Form));
        Assert.Equal(HttpStatusCode.BadRequest, pages[2].Status);
        Assert.Contains("Too many", pages[2].Alert);
        Assert.Equal(0, _site.Hits("/client-2.json")); // refused before anything was fetched
        // A document this pod already knows is not a new registration: it still opens.
        var again = await browser.GetAuthorizePageAsync(
            api.AuthorizeUri(_site.UrlOf("/client-0.json"), redirect, OAuthApiFixture.NotifyScope, "st", Pkce.Create()),
            TestContext.Current.CancellationToken);
        Assert.NotNull(again.Form);
    }
}
