using System.Net;
using Dovecote.Api.Accounts;
using Dovecote.Grains.Interfaces.Accounts;
using Dovecote.Tests.OAuth;
using Microsoft.Extensions.DependencyInjection;

namespace Dovecote.Tests.Accounts;

/// <summary>With sign-up off (the default), a person let in upstream has no tenant until invited, and can connect no app.</summary>
public sealed class NoSignUpTests(NoSignUpAccountsApiFixture api) : IClassFixture<NoSignUpAccountsApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_new_account_has_no_tenant_and_the_consent_page_offers_none()
    {
        api.GitHub.AddUser(830001, AccountsApiFixture.AllowedLogin, "The Octocat");
        using var browser = await api.SignInWithGitHubAsync(AccountsApiFixture.AllowedLogin);
        var principal = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(AccountSession.AccountClaim, "github:830001")], AccountSession.Scheme));
        Assert.Empty(await api.Services.GetRequiredService<AccountMemberships>().ForAsync(principal));

        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/callback";
        var client = await api.RegisterPublicClientAsync(redirect);
        var page = await browser.GetAuthorizePageAsync(api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "s", Pkce.Create()), Ct);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("You do not belong to any tenant yet", page.Alert);
        Assert.Equal(["deny"], page.Form!.Decisions);

        var forced = await browser.SubmitForPageAsync(page.Form, OAuthApiFixture.DefaultTenant, null, "allow", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.Forbidden, forced.Status);
        Assert.Null(forced.Response.Headers.Location);
    }
}
