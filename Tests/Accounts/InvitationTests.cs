using System.Net;
using Dovecote.Api.Accounts;
using Dovecote.Grains.Interfaces.Accounts;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.OAuth;
using Microsoft.Extensions.DependencyInjection;

namespace Dovecote.Tests.Accounts;

/// <summary>Invitations by link over real HTTP, and the member grain's rules, against the real Api and its embedded silo.</summary>
public sealed class InvitationTests(AccountsApiFixture api) : IClassFixture<AccountsApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(InvitationInfo Invitation, string Link)> InviteAsync(string tenant, TenantRole role, TimeSpan? lifetime = null)
    {
        using var scope = api.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<MemberAdministration>().InviteAsync(tenant, role, "admin", lifetime);
    }

    private async Task<ConsentDriver> SignedInAsync(long id)
    {
        api.GitHub.AddUser(id, $"invitee-{id}", null, null, AccountsApiFixture.AllowedOrg);
        return await api.SignInWithGitHubAsync($"invitee-{id}");
    }

    private async Task<TenantRole?> RoleAsync(string tenant, string account)
    {
        using var scope = TenantContext.Enter(tenant);
        return await api.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantMembersGrain>(AccountIds.Members(tenant)).GetRoleAsync(account);
    }

    [Fact]
    public async Task An_invitation_is_accepted_once_and_then_refused()
    {
        var (invitation, link) = await InviteAsync(OAuthApiFixture.AcmeTenant, TenantRole.Member);
        Assert.StartsWith($"{api.BaseUrl}/invitations/accept?token=dvi_acme_", link);
        using var first = await SignedInAsync(820001);
        var form = await first.GetAuthorizeFormAsync(new Uri(link), Ct);
        Assert.Null(await RoleAsync(OAuthApiFixture.AcmeTenant, "github:820001")); // opening the link joins nobody
        using (var joined = await first.SubmitAsync(form, null, null, "join", cancellationToken: Ct))
        {
            Assert.Equal(HttpStatusCode.Found, joined.StatusCode);
            Assert.Equal("/console", joined.Headers.Location!.OriginalString);
        }
        Assert.Equal(TenantRole.Member, await RoleAsync(OAuthApiFixture.AcmeTenant, "github:820001"));

        // The same link, by someone else: used up.
        using var second = await SignedInAsync(820002);
        var again = await second.SubmitForPageAsync(await second.GetAuthorizeFormAsync(new Uri(link), Ct), null, null, "join", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.NotFound, again.Status);
        Assert.Contains("already used, withdrawn or mistyped", again.Alert);
        Assert.Null(await RoleAsync(OAuthApiFixture.AcmeTenant, "github:820002"));
        using var scope = TenantContext.Enter(OAuthApiFixture.AcmeTenant);
        var open = await api.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantMembersGrain>(AccountIds.Members(OAuthApiFixture.AcmeTenant))
            .ListInvitationsAsync();
        Assert.DoesNotContain(open, i => i.InvitationId == invitation.InvitationId);
    }

    [Fact]
    public async Task An_expired_invitation_is_refused()
    {
        var (invitation, link) = await InviteAsync(OAuthApiFixture.AcmeTenant, TenantRole.Owner, TimeSpan.FromMilliseconds(1));
        while (DateTimeOffset.UtcNow <= invitation.ExpiresAt) await Task.Delay(5, Ct); // wait for the condition, whatever the clock's grain
        using var browser = await SignedInAsync(820003);
        var page = await browser.SubmitForPageAsync(await browser.GetAuthorizeFormAsync(new Uri(link), Ct), null, null, "join", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.Gone, page.Status);
        Assert.Contains("This invitation has expired", page.Html);
        Assert.Null(await RoleAsync(OAuthApiFixture.AcmeTenant, "github:820003"));
    }

    [Fact]
    public async Task A_tampered_secret_is_refused_and_burns_the_invitation()
    {
        var (_, link) = await InviteAsync(OAuthApiFixture.AcmeTenant, TenantRole.Member);
        var token = Uri.UnescapeDataString(link[(link.IndexOf("token=", StringComparison.Ordinal) + 6)..]);
        var tampered = token[..^3] + (token.EndsWith("abc", StringComparison.Ordinal) ? "xyz" : "abc");
        using var browser = await SignedInAsync(820004);
        var form = await browser.GetAuthorizeFormAsync(new Uri(link), Ct);
        var refused = await browser.SubmitForPageAsync(form, null, null, "join", new Dictionary<string, string?> { ["token"] = tampered }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, refused.Status);
        var honest = await browser.SubmitForPageAsync(form, null, null, "join", cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.NotFound, honest.Status);
        Assert.Null(await RoleAsync(OAuthApiFixture.AcmeTenant, "github:820004"));
    }

    [Fact]
    public async Task Opening_a_link_signed_out_goes_to_sign_in_and_back_and_a_password_session_cannot_join()
    {
        var (_, link) = await InviteAsync(OAuthApiFixture.AcmeTenant, TenantRole.Member);
        using var browser = api.NewConsentDriver();
        var first = await browser.GetAuthorizePageAsync(new Uri(link), Ct);
        Assert.Equal(HttpStatusCode.Found, first.Status);
        Assert.StartsWith("/signin?returnUrl=%2Finvitations%2Faccept%3Ftoken%3Ddvi_acme_", first.Response.Headers.Location!.OriginalString);

        var signIn = await browser.GetAuthorizeFormAsync(new Uri(new Uri(api.BaseUrl), first.Response.Headers.Location!), Ct);
        (await browser.SubmitAsync(signIn, OAuthApiFixture.AcmeTenant, OAuthApiFixture.AcmePassword, "signin", cancellationToken: Ct)).Dispose();
        var page = await browser.GetAuthorizePageAsync(new Uri(link), Ct);
        Assert.Equal(HttpStatusCode.Conflict, page.Status);
        Assert.Contains("tenant's password", page.Alert);
    }

    [Fact]
    public async Task The_last_owner_stays_and_membership_lists_are_bounded()
    {
        var grains = api.Services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IAccountGrain>(AccountIds.GrainKey("github:820010")).SignInAsync("github:820010", "Owner", null);
        using var scope = TenantContext.Enter(OAuthApiFixture.DefaultTenant);
        var members = grains.GetGrain<ITenantMembersGrain>(AccountIds.Members(OAuthApiFixture.DefaultTenant));
        await members.AddAsync("github:820010", "Owner", TenantRole.Owner);
        var lastOwner = await Assert.ThrowsAsync<ArgumentException>(() => members.RemoveAsync("github:820010"));
        Assert.Contains("last owner", lastOwner.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => members.AddAsync("github:820010", "Owner", TenantRole.Member));
        // A password "account" is a session, never a member; an unknown account cannot be added.
        await Assert.ThrowsAsync<ArgumentException>(() => members.AddAsync(AccountIds.Password("acme"), "x", TenantRole.Member));
        await Assert.ThrowsAsync<NotFoundException>(() => members.AddAsync("github:999999999", "x", TenantRole.Member));
        // The member grain is tenant-scoped: another tenant's caller is refused by the silo.
        using (TenantContext.Enter(OAuthApiFixture.AcmeTenant))
            await Assert.ThrowsAsync<TenantIsolationException>(() => members.ListAsync());
    }
}
