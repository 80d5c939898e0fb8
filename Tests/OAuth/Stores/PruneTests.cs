using Dovecote.Api.OAuth.Registration;
using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Tests.Tenants;
using static Dovecote.Tests.OAuth.Stores.TokenStoreTests;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Tests.OAuth.Stores;

/// <summary>
/// The test cluster runs on the system clock, so these prune "as of" a later time (the pruner takes now and the
/// threshold as arguments) instead of waiting. Each pass prunes the whole cluster; the tests check only their own entities.
/// </summary>
[Collection(GrainClusterCollection.Name)]
public sealed class PruneTests(GrainClusterFixture fx) : OpenIddictStoreTestBase(fx)
{
    private IOAuthPrunerGrain Pruner => Fx.Client.GetGrain<IOAuthPrunerGrain>(OAuthKeys.Singleton);

    [Fact]
    public async Task Prune_deletes_what_the_EF_store_would_and_keeps_the_rest()
    {
        var now = DateTimeOffset.UtcNow;
        var subject = "user-" + Guid.NewGuid().ToString("N");
        await using var scope = Host.NewScope();
        var live = await CreateAuthorizationAsync(scope, subject);
        var revoked = await CreateAuthorizationAsync(scope, subject, status: Statuses.Revoked);
        var adHocEmpty = await CreateAuthorizationAsync(scope, subject, type: AuthorizationTypes.AdHoc);
        var adHocInUse = await CreateAuthorizationAsync(scope, subject, type: AuthorizationTypes.AdHoc);

        async Task<string> Token(string? authorizationId, string status, TimeSpan expiresIn) =>
            (await scope.Tokens.GetIdAsync(
                await scope.Tokens.CreateAsync(TokenStoreTests.Token("app", authorizationId, subject, status, now + expiresIn), Ct),
                Ct))!;
        var valid = await Token(live, Statuses.Valid, TimeSpan.FromDays(1));
        var redeemed = await Token(live, Statuses.Redeemed, TimeSpan.FromDays(1));
        var expired = await Token(live, Statuses.Valid, -TimeSpan.FromMinutes(1));
        var ofRevoked = await Token(revoked, Statuses.Valid, TimeSpan.FromDays(1));
        var ofAdHoc = await Token(adHocInUse, Statuses.Valid, TimeSpan.FromDays(1));
        var inactiveLoose = await Token(null, Statuses.Inactive, TimeSpan.FromDays(1));

        // Nothing was created before this threshold, so nothing of ours may go.
        await scope.Tokens.PruneAsync(now - TimeSpan.FromHours(1), Ct);
        Assert.NotNull(await Fx.Client.GetGrain<IOAuthTokenGrain>(redeemed).GetAsync());

        // Past the end of today's (daily) authorization bucket as well as this hour's token bucket.
        var threshold = now + TimeSpan.FromHours(25);
        Assert.True(await scope.Tokens.PruneAsync(threshold, Ct) >= 3);

        foreach (var id in new[] { valid, ofAdHoc, inactiveLoose }) Assert.NotNull(await Fx.Client.GetGrain<IOAuthTokenGrain>(id).GetAsync());
        foreach (var id in new[] { redeemed, expired, ofRevoked }) Assert.Null(await Fx.Client.GetGrain<IOAuthTokenGrain>(id).GetAsync());
        foreach (var id in new[] { live, adHocInUse }) Assert.NotNull(await Fx.Client.GetGrain<IOAuthAuthorizationGrain>(id).GetAsync());
        foreach (var id in new[] { revoked, adHocEmpty }) Assert.Null(await Fx.Client.GetGrain<IOAuthAuthorizationGrain>(id).GetAsync());

        // Survivors wait in a later bucket, so the next passes do not open them again; the emptied bucket is gone.
        var schedule = Fx.Client.GetGrain<IOAuthPruneScheduleGrain>(OAuthKeys.Singleton);
        Assert.DoesNotContain(OAuthKeys.TokenBucket(now), await schedule.DueAsync(threshold + TimeSpan.FromDays(30)));
        Assert.Contains(valid, await Fx.Client.GetGrain<IOAuthPruneBucketGrain>(OAuthKeys.TokenBucket(threshold + TimeSpan.FromDays(1))).ListAsync());
        Assert.DoesNotContain(OAuthKeys.TokenBucket(threshold + TimeSpan.FromDays(1)), await schedule.DueAsync(threshold));
        Assert.Equal(0, (await Pruner.PruneAsync(threshold, now)).Tokens);
    }

    [Fact]
    public async Task Unused_self_registered_clients_are_pruned_after_a_day_and_used_ones_kept()
    {
        var now = DateTimeOffset.UtcNow;
        await using var scope = Host.NewScope();
        async Task<string> Client(string kind)
        {
            var id = "https://client.example/" + Guid.NewGuid().ToString("N");
            var application = new OAuthApplication { RegistrationKind = kind };
            await scope.Applications.PopulateAsync(application, ApplicationStoreTests.PublicClient(id), Ct);
            await scope.Applications.CreateAsync(application, Ct);
            return id;
        }
        var unused = await Client(OAuthRegistrationKinds.Dcr);
        var unusedCimd = await Client(OAuthRegistrationKinds.Cimd);
        var used = await Client(OAuthRegistrationKinds.Dcr);
        var configured = await Client(OAuthRegistrationKinds.Static);
        await scope.Tokens.CreateAsync(TokenStoreTests.Token(used, null, "alice"), Ct);
        Assert.NotNull((await Fx.Client.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(used)).GetAsync())!.LastUsedAt);

        // The first registration started the hourly reminder.
        Assert.Contains(Fx.StoredText(), row => row.Key.EndsWith("oauth-pruner/0/prune", StringComparison.Ordinal));

        Assert.Equal(0, (await Pruner.PruneAsync(now - TimeSpan.FromDays(14), now + TimeSpan.FromHours(23))).Applications);
        Assert.NotNull(await Fx.Client.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(unused)).GetAsync());

        var result = await Pruner.PruneAsync(now - TimeSpan.FromDays(14), now + TimeSpan.FromHours(25));

        Assert.True(result.Applications >= 2);
        Assert.Null(await Fx.Client.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(unused)).GetAsync());
        Assert.Null(await Fx.Client.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(unusedCimd)).GetAsync());
        Assert.NotNull(await Fx.Client.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(used)).GetAsync());
        Assert.NotNull(await Fx.Client.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(configured)).GetAsync());
    }

    [Fact]
    public async Task An_unused_directory_entry_whose_application_is_under_no_current_key_is_dropped()
    {
        // As a metadata-document client registered before grain keys were encoded leaves it: listed, but its state sits
        // under the raw URL, which nothing reads any more.
        var now = DateTimeOffset.UtcNow;
        var url = "https://client.example/before/" + Guid.NewGuid().ToString("N");
        await Fx.Client.Shard(url).SetAsync(
            url,
            new OAuthDirectoryEntry { CreatedAt = now - TimeSpan.FromDays(3), RegistrationKind = OAuthRegistrationKinds.Cimd });
        Assert.Contains(url, await Fx.Client.Shard(url).ListUnusedAsync(now));

        await Pruner.PruneAsync(now - TimeSpan.FromDays(14), now);

        Assert.DoesNotContain(url, await Fx.Client.Shard(url).ListAsync());
    }

    [Fact]
    public async Task A_stale_update_does_not_make_a_used_client_prunable_again()
    {
        var id = ClientIds.New();
        await using var scope = Host.NewScope();
        var application = new OAuthApplication { RegistrationKind = OAuthRegistrationKinds.Dcr };
        await scope.Applications.PopulateAsync(application, ApplicationStoreTests.PublicClient(id), Ct);
        await scope.Applications.CreateAsync(application, Ct);

        await scope.Tokens.CreateAsync(TokenStoreTests.Token(id, null, "alice"), Ct); // marks it used behind the manager's copy
        await scope.Applications.UpdateAsync(application, ApplicationStoreTests.PublicClient(id, "Renamed"), Ct);

        Assert.NotNull((await Fx.Client.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(id)).GetAsync())!.LastUsedAt);
        Assert.DoesNotContain(id, await Fx.Client.Shard(id).ListUnusedAsync(DateTimeOffset.MaxValue));
    }
}
