using Dovecote.Api.Accounts;
using Dovecote.Tests.OAuth;
using Microsoft.Extensions.DependencyInjection;

namespace Dovecote.Tests.Accounts;

/// <summary>The Claude Code-shaped flow (the MCP C# SDK: discovery, DCR, PKCE, loopback redirect) with a person signed in through GitHub.</summary>
public sealed class AccountSdkOAuthTests(AccountsApiFixture api) : IClassFixture<AccountsApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sdk_connects_through_a_signed_in_account_and_calls_tools_in_the_tenant_it_picked()
    {
        api.GitHub.AddUser(850001, AccountsApiFixture.AllowedLogin, "The Octocat");
        var browser = await api.SignInWithGitHubAsync(AccountsApiFixture.AllowedLogin);
        var principal = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(AccountSession.AccountClaim, "github:850001")], AccountSession.Scheme));
        var own = Assert.Single(await api.Services.GetRequiredService<AccountMemberships>().ForAsync(principal)).Tenant;

        await using var session = new SdkOAuthSession(api, own, password: null, browser);
        var client = await session.ConnectAsync();
        var channels = await client.CallToolAsync("list_channels", cancellationToken: Ct);
        Assert.NotEqual(true, channels.IsError);
        Assert.Empty(channels.StructuredContent!.Value.GetProperty("channels").EnumerateArray()); // the new tenant's, not default's

        // The grant is the person's, in their tenant.
        using var scope = api.Services.CreateScope();
        var authorizations = scope.ServiceProvider.GetRequiredService<OpenIddict.Abstractions.IOpenIddictAuthorizationManager>();
        var approvers = new List<string?>();
        await foreach (var grant in authorizations.FindBySubjectAsync(own, Ct)) approvers.Add(await GrantAccounts.OfAsync(authorizations, grant, Ct));
        Assert.Equal(["github:850001"], approvers);
    }
}
