using System.Net;
using System.Text;
using System.Text.Json;
using Dovecote.Api.OAuth.Registration;
using Dovecote.Grains.Interfaces.OAuth;
using Microsoft.Extensions.DependencyInjection;

namespace Dovecote.Tests.OAuth;

/// <summary>Anonymous floods against the store: never-used registrations past the cap, and random client_ids at /authorize and /token.</summary>
public static class RegistrationFloodTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    /// <summary>How the management grain names the application grain's class in its statistics.</summary>
    private const string ApplicationGrainType = "Dovecote.Grains.OAuth.OAuthApplicationGrain,";
    private const string Callback = Clients.ClaudeAiCallback;

    /// <summary>OAuth__MaxUnusedRegisteredClients=64: registering stops once a shard holds its one unused client, and resumes after pruning.</summary>
    public sealed class UnusedClientCap(UnusedClientCapOAuthApiFixture api) : IClassFixture<UnusedClientCapOAuthApiFixture>
    {
        [Fact]
        public async Task Registrations_past_the_unused_client_cap_get_503_until_the_pruner_runs()
        {
            var grains = api.Services.GetRequiredService<IGrainFactory>();
            using var http = new HttpClient();
            var body = Clients.ClaudeCode("http://127.0.0.1:5555/callback").ToJsonString();
            var created = 0;
            HttpResponseMessage? refused = null;
            // 64 shards holding one unused client each: by the pigeonhole principle the 65th registration at the latest is refused.
            for (var attempt = 0; attempt < 65 && refused is null; attempt++)
            {
                var response = await http.PostAsync($"{api.BaseUrl}/register", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
                if (response.StatusCode == HttpStatusCode.Created) created++;
                else if (response.StatusCode == HttpStatusCode.ServiceUnavailable) refused = response;
                else Assert.Fail($"POST /register #{attempt + 1}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
                if (refused is null) response.Dispose();
            }

            using (refused)
            {
                Assert.NotNull(refused);
                Assert.InRange(created, 1, 64);
                Assert.Equal(TimeSpan.FromHours(1), refused.Headers.RetryAfter?.Delta);
                var json = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement;
                Assert.Equal("temporarily_unavailable", json.GetProperty("error").GetString());
                Assert.Contains("OAuth__MaxUnusedRegisteredClients", json.GetProperty("error_description").GetString());
            }
            Assert.Equal(created, (await grains.ListAllUnusedApplicationsAsync(DateTimeOffset.MaxValue)).Count);

            // A day later the pruner has deleted them all, and registration works again.
            var now = DateTimeOffset.UtcNow;
            await grains.GetGrain<IOAuthPrunerGrain>(OAuthKeys.Singleton).PruneAsync(now.AddDays(-14), now.AddHours(25));
            Assert.Empty(await grains.ListAllUnusedApplicationsAsync(DateTimeOffset.MaxValue));
            using var again = await http.PostAsync($"{api.BaseUrl}/register", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }
    }

    /// <summary>Random client_ids, as a flood would send them: refused without activating a single application grain.</summary>
    public sealed class RandomClientIds(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
    {
        private Task<SimpleGrainStatistic[]> StatisticsAsync() =>
            api.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();

        private async Task<int> ApplicationActivationsAsync() =>
            (await StatisticsAsync()).Where(s => s.GrainType.StartsWith(ApplicationGrainType, StringComparison.Ordinal)).Sum(s => s.ActivationCount);

        private async Task<HttpStatusCode> TokenAsync(HttpClient http, string clientId)
        {
            using var response = await http.PostAsync($"{api.BaseUrl}/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["client_id"] = clientId,
                ["code"] = "whatever",
                ["code_verifier"] = new string('v', 43),
                ["redirect_uri"] = "https://claude.ai/api/mcp/auth_callback",
            }), Ct);
            return response.StatusCode;
        }

        private static readonly string[] MalformedIds =
        [
            "random-client",
            "dvc-NOTHEX000000000000000000000000000000000000000000",
            "dvc-0123",
            "https://claude.ai/" + new string('a', 2100),
            "https://claude.ai/ with a space",
            "ftp://claude.ai/client.json",
        ];

        [Fact]
        public async Task A_burst_of_malformed_client_ids_activates_no_application_grain()
        {
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            var before = await ApplicationActivationsAsync();

            for (var i = 0; i < 20; i++)
            {
                foreach (var clientId in MalformedIds)
                {
                    var id = clientId + i;
                    // 401 invalid_client, or 429 once the per-address budget for failed client authentication is spent.
                    Assert.Contains(await TokenAsync(http, id), new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests });
                    var authorize = api.AuthorizeUri(id, "https://claude.ai/api/mcp/auth_callback", Clients.Scope, "st", Pkce.Create());
                    using var page = await http.GetAsync(authorize, Ct);
                    Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
                }
            }

            Assert.Equal(before, await ApplicationActivationsAsync());

            // Control: well-formed ids that name no client do reach the store, so the count above would have moved.
            for (var i = 0; i < 5; i++)
            {
                using var page = await http.GetAsync(api.AuthorizeUri(ClientIds.New(), Callback, Clients.Scope, "st", Pkce.Create()), Ct);
                Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
            }
            var types = (await StatisticsAsync()).Select(s => $"{s.GrainType}={s.ActivationCount}");
            Assert.True(await ApplicationActivationsAsync() >= before + 5,
                $"well-formed unknown client_ids should activate application grains; {string.Join(", ", types)}");
        }
    }

    /// <summary>OAuth__UnknownClientIdsPerAddressPerMinute=3: well-formed ids that name no client are budgeted per address before the lookup.</summary>
    public sealed class UnknownClientIdBudget(TightUnknownClientBudgetOAuthApiFixture api) : IClassFixture<TightUnknownClientBudgetOAuthApiFixture>
    {
        private async Task<int> ApplicationActivationsAsync() =>
            (await api.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics())
                .Where(s => s.GrainType.StartsWith(ApplicationGrainType, StringComparison.Ordinal)).Sum(s => s.ActivationCount);

        [Fact]
        public async Task Past_the_budget_unknown_client_ids_are_refused_before_any_lookup()
        {
            using var browser = api.NewConsentDriver();
            var before = await ApplicationActivationsAsync();
            var pages = new List<ConsentPage>();
            for (var i = 0; i < 6; i++)
                pages.Add(await browser.GetAuthorizePageAsync(api.AuthorizeUri(ClientIds.New(), Callback, Clients.Scope, "st", Pkce.Create()), Ct));

            Assert.All(pages, page => Assert.Equal(HttpStatusCode.BadRequest, page.Status));
            Assert.All(pages.Take(3), page => Assert.DoesNotContain("Too many unknown client_ids", page.Html));
            Assert.All(pages.Skip(3), page => Assert.Contains("Too many unknown client_ids", page.Html));
            // Three lookups, three activations; the three refused ids were never looked up.
            Assert.Equal(before + 3, await ApplicationActivationsAsync());
        }
    }
}
