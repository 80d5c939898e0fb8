using System.Net;
using System.Text.Json.Nodes;
using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.OAuth;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Storage;

namespace Dovecote.Tests.OAuth;

/// <summary>
/// Outside strings in grain keys, end to end on the real Api: client_ids that the Azure Table provider would map to one
/// row stay two clients, and strings no key could hold (a token with '/', 5,000 characters) get a 4xx, never a 500.
/// </summary>
public sealed class GrainKeyEncodingApiTests(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly ClientMetadataServer _site = new();
    private readonly string _redirectUri = $"http://127.0.0.1:{FreePorts.Next()}/cb";

    public ValueTask InitializeAsync() => new(_site.StartAsync());

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    private IGrainFactory Grains => api.Services.GetRequiredService<IGrainFactory>();

    private void Serve(string path, string name) => _site.Serve(path, new JsonObject
    {
        ["client_id"] = _site.UrlOf(path),
        ["client_name"] = name,
        ["redirect_uris"] = new JsonArray(_redirectUri),
        ["token_endpoint_auth_method"] = "none",
        ["grant_types"] = new JsonArray("authorization_code", "refresh_token"),
        ["response_types"] = new JsonArray("code"),
    });

    private async Task<ConsentPage> AuthorizeAsync(string clientId)
    {
        using var browser = api.NewConsentDriver();
        return await browser.GetAuthorizePageAsync(api.AuthorizeUri(clientId, _redirectUri, Clients.Scope, "st-keys", Pkce.Create()), Ct);
    }

    [Fact]
    public async Task Two_document_clients_whose_urls_differ_only_in_slash_and_underscore_are_two_applications()
    {
        Serve("/x/y.json", "Slash Client");
        Serve("/x_y.json", "Underscore Client");
        var (slash, underscore) = (_site.UrlOf("/x/y.json"), _site.UrlOf("/x_y.json"));

        var first = await AuthorizeAsync(slash);
        Assert.True(first.Status == HttpStatusCode.OK && first.Form is not null, $"GET /authorize (slash): {(int)first.Status}\n{first.Html}");
        Assert.Contains("Slash Client", first.Html);
        var second = await AuthorizeAsync(underscore);
        Assert.True(second.Status == HttpStatusCode.OK && second.Form is not null, $"GET /authorize (underscore): {(int)second.Status}\n{second.Html}");
        Assert.Contains("Underscore Client", second.Html);
        Assert.Equal((1, 1), (_site.Hits("/x/y.json"), _site.Hits("/x_y.json")));

        // Each is its own grain, and each grain keeps its real client_id.
        Assert.NotEqual(OAuthKeys.Application(slash), OAuthKeys.Application(underscore));
        var slashApp = await Grains.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(slash)).GetAsync();
        var underscoreApp = await Grains.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(underscore)).GetAsync();
        Assert.Equal((slash, "Slash Client"), (slashApp?.ClientId, slashApp?.DisplayName));
        Assert.Equal((underscore, "Underscore Client"), (underscoreApp?.ClientId, underscoreApp?.DisplayName));

        // Seen again, the first is still itself: the second did not overwrite it.
        var again = await AuthorizeAsync(slash);
        Assert.Contains("Slash Client", again.Html);
    }

    [Fact]
    public async Task A_document_client_written_under_its_raw_url_before_the_encoding_is_fetched_again_and_recreated()
    {
        // Embedded data from before this change: the application row under the URL itself, as the old code wrote it.
        Serve("/legacy/client.json", "Fetched Again");
        var url = _site.UrlOf("/legacy/client.json");
        var storage = api.Services.GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);
        var legacyId = GrainId.Create("oauth-app", url);
        var legacy = new GrainState<OAuthApplicationState>(new OAuthApplicationState
        {
            Application = new OAuthApplication
            {
                Id = url,
                ClientId = url,
                DisplayName = "Stored Before",
                ClientType = "public",
                ConcurrencyToken = "old",
                RedirectUris = [_redirectUri],
                RegistrationKind = OAuthRegistrationKinds.Cimd,
                CreatedAt = DateTimeOffset.UtcNow,
            },
        });
        await storage.WriteStateAsync("oauth-app", legacyId, legacy);

        var page = await AuthorizeAsync(url);

        Assert.True(page.Status == HttpStatusCode.OK && page.Form is not null, $"GET /authorize: {(int)page.Status}\n{page.Html}");
        Assert.Contains("Fetched Again", page.Html);
        Assert.Equal(1, _site.Hits("/legacy/client.json"));
        var current = await Grains.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(url)).GetAsync();
        Assert.Equal((url, "Fetched Again"), (current?.ClientId, current?.DisplayName));
        // The old row is left alone: nothing reads it any more.
        var reread = new GrainState<OAuthApplicationState>(new OAuthApplicationState());
        await storage.ReadStateAsync("oauth-app", legacyId, reread);
        Assert.Equal("Stored Before", reread.State?.Application?.DisplayName);
    }

    [Fact]
    public async Task A_document_url_longer_than_the_provider_key_limit_is_still_one_client()
    {
        // 1,024 characters or more would make the Azure Table provider throw on a raw key; the URL limit is 2,048.
        var path = "/" + new string('p', 1_500) + ".json";
        Serve(path, "Long Url Client");

        var page = await AuthorizeAsync(_site.UrlOf(path));

        Assert.True(page.Status == HttpStatusCode.OK && page.Form is not null, $"GET /authorize: {(int)page.Status}\n{page.Html}");
        Assert.Contains("Long Url Client", page.Html);
        Assert.Equal(65, OAuthKeys.Application(_site.UrlOf(path)).Length);
    }

    [Theory]
    [InlineData("abc/def")]
    [InlineData("dvc_abcdefghijkl_/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("eyJhbGciOi/../..\\#?x")]
    [InlineData("~0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task A_token_with_characters_no_key_may_hold_is_refused_with_401(string token)
    {
        var call = await api.CallToolRawAsync(token, "list_channels");

        Assert.True(call.Status == HttpStatusCode.Unauthorized, $"/mcp with '{token}': {(int)call.Status} {call.Body}");
        Assert.Contains("invalid_token", call.WwwAuthenticate);
    }

    [Fact]
    public async Task A_5000_character_token_is_refused_with_401()
    {
        var call = await api.CallToolRawAsync(new string('/', 5_000), "list_channels");

        Assert.True(call.Status == HttpStatusCode.Unauthorized, $"/mcp: {(int)call.Status} {call.Body}");
    }

    [Fact]
    public async Task A_5000_character_client_id_gets_the_400_error_page_at_authorize_and_a_401_invalid_client_at_token()
    {
        var clientId = _site.UrlOf("/" + new string('a', 5_000));

        var page = await AuthorizeAsync(clientId);
        Assert.True(page.Status == HttpStatusCode.BadRequest, $"GET /authorize: {(int)page.Status}\n{page.Html}");
        Assert.Null(page.Response.Headers.Location);

        var (status, json) = await api.PostTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = clientId,
            ["code"] = "whatever",
            ["code_verifier"] = new string('v', 43),
            ["redirect_uri"] = _redirectUri,
        });
        // RFC 6749 §5.2: invalid_client may be 401; what matters is a clear refusal, not a provider exception.
        Assert.True(status == HttpStatusCode.Unauthorized, $"POST /token: {(int)status} {json}");
        Assert.Equal("invalid_client", json.GetProperty("error").GetString());
        Assert.Equal(0, _site.Hits("/" + new string('a', 5_000)));
    }
}
