using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Tests.Tenants;
using static Dovecote.Tests.OAuth.Stores.TokenStoreTests;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Tests.OAuth.Stores;

[Collection(GrainClusterCollection.Name)]
public sealed class AuthorizationStoreTests(GrainClusterFixture fx) : OpenIddictStoreTestBase(fx)
{

    [Fact]
    public async Task Authorizations_are_found_by_subject_client_status_type_and_scopes()
    {
        var subject = "user-" + Guid.NewGuid().ToString("N");
        await using var scope = Host.NewScope();
        var permanent = await CreateAuthorizationAsync(scope, subject, "app-a", scopes: ["mcp:tools", "offline_access"]);
        var adHoc = await CreateAuthorizationAsync(scope, subject, "app-a", type: AuthorizationTypes.AdHoc, scopes: ["mcp:tools"]);
        var otherApp = await CreateAuthorizationAsync(scope, subject, "app-b", scopes: ["mcp:tools"]);
        var revoked = await CreateAuthorizationAsync(scope, subject, "app-a", status: Statuses.Revoked, scopes: ["mcp:tools"]);
        await CreateAuthorizationAsync(scope, "someone-else", "app-a", scopes: ["mcp:tools"]);

        async Task<List<string>> Find(string? status, string? type, params string[] scopes) =>
            (await scope.Authorizations.FindAsync(subject, "app-a", status, type, [.. scopes], Ct).ToListAsync(Ct))
                .Select(a => ((OAuthAuthorization)a).Id)
                .Order()
                .ToList();

        Assert.Equal([permanent], await Find(Statuses.Valid, AuthorizationTypes.Permanent, "mcp:tools"));
        Assert.Equal([permanent], await Find(Statuses.Valid, null, "offline_access"));
        Assert.Empty(await Find(Statuses.Valid, AuthorizationTypes.Permanent, "mcp:admin"));
        Assert.Equal(new[] { permanent, adHoc, revoked }.Order(), await Find(null, null));
        Assert.Equal(new[] { permanent, adHoc, otherApp, revoked }.Order(),
            (await scope.Authorizations.FindBySubjectAsync(subject, Ct).ToListAsync(Ct)).Select(a => ((OAuthAuthorization)a).Id).Order());
        Assert.Equal([otherApp], (await scope.Authorizations.FindByApplicationIdAsync("app-b", Ct).ToListAsync(Ct))
            .Select(a => ((OAuthAuthorization)a).Id).Where(new[] { permanent, adHoc, otherApp, revoked }.Contains));
    }

    [Fact]
    public async Task Revoking_by_subject_revokes_only_that_subjects_authorizations()
    {
        var subject = "user-" + Guid.NewGuid().ToString("N");
        var other = "user-" + Guid.NewGuid().ToString("N");
        await using var scope = Host.NewScope();
        var mine = new[] { await CreateAuthorizationAsync(scope, subject, "app-a"), await CreateAuthorizationAsync(scope, subject, "app-b") };
        var theirs = await CreateAuthorizationAsync(scope, other, "app-a");

        Assert.Equal(2, await scope.Authorizations.RevokeBySubjectAsync(subject, Ct));

        await using var reread = Host.NewScope();
        foreach (var id in mine)
            Assert.Equal(Statuses.Revoked, await reread.Authorizations.GetStatusAsync((await reread.Authorizations.FindByIdAsync(id, Ct))!, Ct));
        Assert.Equal(Statuses.Valid, await reread.Authorizations.GetStatusAsync((await reread.Authorizations.FindByIdAsync(theirs, Ct))!, Ct));
    }

    [Fact]
    public async Task A_stale_authorization_copy_cannot_be_updated()
    {
        await using var scope = Host.NewScope();
        var id = await CreateAuthorizationAsync(scope, "user-" + Guid.NewGuid().ToString("N"));
        await using var first = Host.NewScope();
        await using var second = Host.NewScope();
        var a = (await first.Authorizations.FindByIdAsync(id, Ct))!;
        var b = (await second.Authorizations.FindByIdAsync(id, Ct))!;

        Assert.True(await first.Authorizations.TryRevokeAsync(a, Ct));
        Assert.False(await second.Authorizations.TryRevokeAsync(b, Ct));
    }
}
