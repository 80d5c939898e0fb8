using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Dovecote.Tests.OAuth;

/// <summary>The sign-in budget is reserved before the password is checked, so parallel POSTs cannot overrun it.</summary>
public sealed class ConcurrentSignInTests(LowSignInLimitOAuthApiFixture api) : IClassFixture<LowSignInLimitOAuthApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_wrong_passwords_from_one_address_are_evaluated_at_most_the_limit()
    {
        const int attempts = 12;
        const string address = "198.51.100.21";
        using (var put = await api.Admin.PutAsJsonAsync("/admin/tenants/raced", new { displayName = "Raced", password = "raced-password-1" }, Ct))
            Assert.True(put.IsSuccessStatusCode);
        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/callback";
        var client = await api.RegisterPublicClientAsync(redirect);

        // Every form is fetched first, so the POSTs below are in flight together, as a scripted attacker would send them.
        var browsers = Enumerable.Range(0, attempts).Select(_ => api.NewConsentDriver()).ToList();
        try
        {
            var forms = new List<ConsentForm>();
            foreach (var browser in browsers)
            {
                browser.Headers.Add("X-Forwarded-For", address);
                var authorize = api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "st", Pkce.Create());
                forms.Add(await browser.GetAuthorizeFormAsync(authorize, Ct));
            }
            var pages = await Task.WhenAll(browsers.Select((b, i) => b.SubmitForPageAsync(forms[i], "raced", $"wrong-{i}", "allow", cancellationToken: Ct)));

            Assert.All(pages, p => Assert.True(p.Status is HttpStatusCode.Unauthorized or (HttpStatusCode)429, $"unexpected {(int)p.Status}"));
            Assert.Equal(LowSignInLimitOAuthApiFixture.PerAddress, pages.Count(p => p.Status == HttpStatusCode.Unauthorized));
            // What was evaluated, seen from the tenant's side: one audited failure per password actually checked.
            var events = await api.Admin.GetFromJsonAsync<JsonElement>("/admin/tenants/raced/audit", Ct);
            var evaluated = events.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "oauth.signin.failed");
            Assert.Equal(LowSignInLimitOAuthApiFixture.PerAddress, evaluated);
        }
        finally
        {
            foreach (var browser in browsers) browser.Dispose();
        }
    }

    [Fact]
    public async Task A_successful_sign_in_gives_its_reservation_back()
    {
        const string address = "198.51.100.22";
        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/callback";
        var client = await api.RegisterPublicClientAsync(redirect);

        // More successes than either budget allows failures: each one returns what it reserved.
        for (var i = 0; i <= LowSignInLimitOAuthApiFixture.PerTenant; i++)
        {
            using var browser = api.NewConsentDriver();
            browser.Headers.Add("X-Forwarded-For", address);
            var form = await browser.GetAuthorizeFormAsync(api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "st", Pkce.Create()), Ct);
            var page = await browser.SubmitForPageAsync(form, OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword, "allow", cancellationToken: Ct);
            Assert.Equal(HttpStatusCode.Found, page.Status);
        }
    }
}
