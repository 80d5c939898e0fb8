using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Tests.Tenants;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Tests.OAuth.Stores;

[Collection(GrainClusterCollection.Name)]
public sealed class TokenStoreTests(GrainClusterFixture fx) : OpenIddictStoreTestBase(fx)
{

    public static OpenIddictTokenDescriptor Token(string? applicationId, string? authorizationId, string? subject,
        string status = Statuses.Valid, DateTimeOffset? expires = null, string? referenceId = null) => new()
        {
            ApplicationId = applicationId,
            AuthorizationId = authorizationId,
            Subject = subject,
            Status = status,
            Type = TokenTypeHints.RefreshToken,
            CreationDate = DateTimeOffset.UtcNow,
            ExpirationDate = expires ?? DateTimeOffset.UtcNow.AddHours(1),
            ReferenceId = referenceId,
            Payload = referenceId is null ? null : "eyJ.payload.sig",
        };

    [Fact]
    public async Task A_reference_token_is_found_by_its_reference_id()
    {
        var reference = "code-" + Guid.NewGuid().ToString("N");
        await using var scope = Host.NewScope();
        var created = await scope.Tokens.CreateAsync(Token(null, null, "alice", referenceId: reference), Ct);
        var id = await scope.Tokens.GetIdAsync(created, Ct);
        await Fx.Cluster.DeactivateAsync(Fx.Client.GetGrain<IOAuthTokenGrain>(id!)); // the next read comes from storage

        await using var reread = Host.NewScope();
        var found = await reread.Tokens.FindByReferenceIdAsync(reference, Ct);
        Assert.NotNull(found);
        Assert.Equal(id, await reread.Tokens.GetIdAsync(found, Ct));
        Assert.Equal("eyJ.payload.sig", await reread.Tokens.GetPayloadAsync(found, Ct));
        Assert.NotEqual(reference, ((OAuthToken)found).ReferenceId); // the manager stored only a hash of it
        Assert.Null(await reread.Tokens.FindByReferenceIdAsync(reference + "x", Ct));
    }

    [Fact]
    public async Task Only_one_of_two_copies_of_a_token_can_be_redeemed()
    {
        var id = await CreateTokenAsync();
        await using var first = Host.NewScope();
        await using var second = Host.NewScope();
        var a = (await first.Tokens.FindByIdAsync(id, Ct))!;
        var b = (await second.Tokens.FindByIdAsync(id, Ct))!;

        Assert.True(await first.Tokens.TryRedeemAsync(a, Ct));
        Assert.False(await second.Tokens.TryRedeemAsync(b, Ct));

        await using var reread = Host.NewScope();
        Assert.Equal(Statuses.Redeemed, await reread.Tokens.GetStatusAsync((await reread.Tokens.FindByIdAsync(id, Ct))!, Ct));
    }

    [Fact]
    public async Task Two_pods_redeeming_the_same_code_at_once_succeed_once()
    {
        await using var otherPod = new OpenIddictStoreHost(Fx.Client);
        for (var round = 0; round < 5; round++)
        {
            var id = await CreateTokenAsync();
            await using var first = Host.NewScope();
            await using var second = otherPod.NewScope();
            var a = (await first.Tokens.FindByIdAsync(id, Ct))!;
            var b = (await second.Tokens.FindByIdAsync(id, Ct))!;

            var results = await Task.WhenAll(
                Task.Run(async () => await first.Tokens.TryRedeemAsync(a, Ct), Ct),
                Task.Run(async () => await second.Tokens.TryRedeemAsync(b, Ct), Ct));

            Assert.Single(results, redeemed => redeemed);
        }
    }

    [Fact]
    public async Task Revoking_by_authorization_revokes_exactly_its_tokens()
    {
        var subject = "user-" + Guid.NewGuid().ToString("N");
        await using var scope = Host.NewScope();
        var authorizationId = await CreateAuthorizationAsync(scope, subject);
        var otherAuthorizationId = await CreateAuthorizationAsync(scope, subject);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await scope.Tokens.GetIdAsync(await scope.Tokens.CreateAsync(Token("app", authorizationId, subject), Ct), Ct))!);
        var otherId = (await scope.Tokens.GetIdAsync(await scope.Tokens.CreateAsync(Token("app", otherAuthorizationId, subject), Ct), Ct))!;

        var found = await scope.Tokens.FindByAuthorizationIdAsync(authorizationId, Ct).ToListAsync(Ct);
        Assert.Equal(ids.Order(), found.Select(t => ((OAuthToken)t).Id).Order());

        Assert.Equal(3, await scope.Tokens.RevokeByAuthorizationIdAsync(authorizationId, Ct));

        await using var reread = Host.NewScope();
        foreach (var id in ids) Assert.Equal(Statuses.Revoked, await reread.Tokens.GetStatusAsync((await reread.Tokens.FindByIdAsync(id, Ct))!, Ct));
        Assert.Equal(Statuses.Valid, await reread.Tokens.GetStatusAsync((await reread.Tokens.FindByIdAsync(otherId, Ct))!, Ct));
        Assert.Equal(4, await reread.Tokens.FindBySubjectAsync(subject, Ct).CountAsync(Ct));
    }

    [Fact]
    public async Task A_revoked_token_copy_read_before_revocation_cannot_be_redeemed()
    {
        var id = await CreateTokenAsync();
        await using var scope = Host.NewScope();
        var stale = (await scope.Tokens.FindByIdAsync(id, Ct))!;

        await Fx.Client.GetGrain<IOAuthTokenGrain>(id).RevokeAsync();

        Assert.False(await scope.Tokens.TryRedeemAsync(stale, Ct));
    }

    private async Task<string> CreateTokenAsync()
    {
        await using var scope = Host.NewScope();
        return (await scope.Tokens.GetIdAsync(await scope.Tokens.CreateAsync(Token(null, null, "alice", referenceId: Guid.NewGuid().ToString("N")), Ct), Ct))!;
    }

    public static async Task<string> CreateAuthorizationAsync(OpenIddictStoreHost.Scope scope, string subject, string applicationId = "app",
        string status = Statuses.Valid, string type = AuthorizationTypes.Permanent, params string[] scopes)
    {
        var descriptor = new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = applicationId,
            Subject = subject,
            Status = status,
            Type = type,
            CreationDate = DateTimeOffset.UtcNow,
        };
        descriptor.Scopes.UnionWith(scopes);
        return (await scope.Authorizations.GetIdAsync(await scope.Authorizations.CreateAsync(descriptor, Ct), Ct))!;
    }
}
