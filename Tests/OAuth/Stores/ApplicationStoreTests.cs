using Dovecote.Api.OAuth.Registration;
using Dovecote.Api.OAuth.Stores;
using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Tests.Tenants;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Tests.OAuth.Stores;

[Collection(GrainClusterCollection.Name)]
public sealed class ApplicationStoreTests(GrainClusterFixture fx) : OpenIddictStoreTestBase(fx)
{

    public static OpenIddictApplicationDescriptor PublicClient(string clientId, string name = "Test client") => new()
    {
        ClientId = clientId,
        ClientType = ClientTypes.Public,
        ApplicationType = ApplicationTypes.Native,
        DisplayName = name,
        RedirectUris = { new Uri("http://127.0.0.1/callback") },
        Permissions = { Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.GrantTypes.AuthorizationCode },
        Requirements = { Requirements.Features.ProofKeyForCodeExchange },
    };

    [Fact]
    public async Task An_application_is_found_by_client_id_and_updated()
    {
        var clientId = "https://client.example/" + Guid.NewGuid().ToString("N"); // a CIMD client id is a URL
        await using (var create = Host.NewScope())
            await create.Applications.CreateAsync(PublicClient(clientId), Ct);

        await using var scope = Host.NewScope();
        var found = await scope.Applications.FindByClientIdAsync(clientId, Ct);
        Assert.NotNull(found);
        Assert.Equal(clientId, await scope.Applications.GetIdAsync(found, Ct));
        Assert.Equal("Test client", await scope.Applications.GetDisplayNameAsync(found, Ct));
        Assert.Contains(Requirements.Features.ProofKeyForCodeExchange, await scope.Applications.GetRequirementsAsync(found, Ct));
        Assert.Same(found, await scope.Applications.FindByIdAsync(clientId, Ct)); // the manager's cache, over the same id

        var descriptor = PublicClient(clientId, "Renamed");
        descriptor.Properties["logo"] = System.Text.Json.JsonSerializer.SerializeToElement(new { uri = "https://client.example/logo.png" });
        descriptor.DisplayNames[System.Globalization.CultureInfo.InvariantCulture] = "Client de test"; // the only culture: InvariantGlobalization is on
        await scope.Applications.UpdateAsync(found, descriptor, Ct);
        // The next read comes from storage (System.Text.Json).
        await Fx.Cluster.DeactivateAsync(Fx.Client.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(clientId)));

        await using var reread = Host.NewScope();
        var updated = await reread.Applications.FindByClientIdAsync(clientId, Ct);
        Assert.Equal("Renamed", await reread.Applications.GetDisplayNameAsync(updated!, Ct));
        Assert.Equal("Client de test", (await reread.Applications.GetDisplayNamesAsync(updated!, Ct))[System.Globalization.CultureInfo.InvariantCulture]);
        Assert.Equal("https://client.example/logo.png", (await reread.Applications.GetPropertiesAsync(updated!, Ct))["logo"].GetProperty("uri").GetString());
        Assert.Equal(["http://127.0.0.1/callback"], await reread.Applications.GetRedirectUrisAsync(updated!, Ct));
        Assert.Equal(OAuthRegistrationKinds.Static, ((OAuthApplication)updated!).RegistrationKind);
    }

    [Fact]
    public async Task A_stale_copy_cannot_update_or_delete()
    {
        var clientId = ClientIds.New();
        await using (var create = Host.NewScope())
            await create.Applications.CreateAsync(PublicClient(clientId), Ct);

        await using var first = Host.NewScope();
        await using var second = Host.NewScope();
        var a = await first.Applications.FindByClientIdAsync(clientId, Ct);
        var b = await second.Applications.FindByClientIdAsync(clientId, Ct);

        await first.Applications.UpdateAsync(a!, PublicClient(clientId, "First"), Ct);
        await Assert.ThrowsAsync<OpenIddictExceptions.ConcurrencyException>(async () =>
            await second.Applications.UpdateAsync(b!, PublicClient(clientId, "Second"), Ct));
        await Assert.ThrowsAsync<OpenIddictExceptions.ConcurrencyException>(async () => await second.Applications.DeleteAsync(b!, Ct));

        await using var reread = Host.NewScope();
        Assert.Equal("First", await reread.Applications.GetDisplayNameAsync((await reread.Applications.FindByClientIdAsync(clientId, Ct))!, Ct));
    }

    [Fact]
    public async Task A_second_application_with_the_same_client_id_is_refused()
    {
        var clientId = ClientIds.New();
        await using var scope = Host.NewScope();
        await scope.Applications.CreateAsync(PublicClient(clientId), Ct);

        // The store, not the manager's query-then-insert check, has the last word: bypass the manager's check.
        var store = new GrainApplicationStore(Fx.Client, TimeProvider.System);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CreateAsync(new OAuthApplication { ClientId = clientId }, Ct));
    }

    [Fact]
    public async Task Deleting_an_application_deletes_its_authorizations_and_tokens()
    {
        var clientId = ClientIds.New();
        var subject = "user-" + Guid.NewGuid().ToString("N");
        await using var scope = Host.NewScope();
        var application = await scope.Applications.CreateAsync(PublicClient(clientId), Ct);
        var authorization = await scope.Authorizations.CreateAsync(new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = clientId,
            Subject = subject,
            Status = Statuses.Valid,
            Type = AuthorizationTypes.Permanent,
            Scopes = { "mcp:tools" },
        }, Ct);
        var authorizationId = (await scope.Authorizations.GetIdAsync(authorization, Ct))!;
        var withAuthorization = await scope.Tokens.CreateAsync(TokenStoreTests.Token(clientId, authorizationId, subject), Ct);
        var withoutAuthorization = await scope.Tokens.CreateAsync(TokenStoreTests.Token(clientId, null, subject), Ct);
        var tokenIds = new[] { (await scope.Tokens.GetIdAsync(withAuthorization, Ct))!, (await scope.Tokens.GetIdAsync(withoutAuthorization, Ct))! };

        await scope.Applications.DeleteAsync(application, Ct);

        await using var reread = Host.NewScope();
        Assert.Null(await reread.Applications.FindByClientIdAsync(clientId, Ct));
        Assert.Null(await reread.Authorizations.FindByIdAsync(authorizationId, Ct));
        foreach (var id in tokenIds) Assert.Null(await reread.Tokens.FindByIdAsync(id, Ct));
        Assert.Empty(await reread.Authorizations.FindBySubjectAsync(subject, Ct).ToListAsync(Ct));
        Assert.DoesNotContain(clientId, await Fx.Client.ListAllApplicationsAsync());
    }

    [Fact]
    public async Task Applications_are_listed_counted_and_queried()
    {
        var clientId = ClientIds.New();
        await using var scope = Host.NewScope();
        await scope.Applications.CreateAsync(PublicClient(clientId, "Listed"), Ct);

        Assert.True(await scope.Applications.CountAsync(Ct) >= 1);
        Assert.Contains(await scope.Applications.ListAsync(null, null, Ct).ToListAsync(Ct), a => ((OAuthApplication)a).Id == clientId);
        var names = await scope.Applications.ListAsync(
            (apps, id) => apps.Where(a => ((OAuthApplication)a).Id == id).Select(a => ((OAuthApplication)a).DisplayName),
            clientId,
            Ct).ToListAsync(Ct);
        Assert.Equal(["Listed"], names);
        Assert.Contains(
            await scope.Applications.FindByRedirectUriAsync("http://127.0.0.1/callback", Ct).ToListAsync(Ct),
            a => ((OAuthApplication)a).Id == clientId);
    }

    [Fact]
    public async Task Scopes_are_stored_and_found_by_name()
    {
        var name = "scope-" + Guid.NewGuid().ToString("N");
        await using var scope = Host.NewScope();
        await scope.Scopes.CreateAsync(new OpenIddictScopeDescriptor { Name = name, DisplayName = "A scope", Resources = { "https://mcp.example/mcp" } }, Ct);

        await using var reread = Host.NewScope();
        var found = await reread.Scopes.FindByNameAsync(name, Ct);
        Assert.NotNull(found);
        Assert.Equal(["https://mcp.example/mcp"], await reread.Scopes.GetResourcesAsync(found, Ct));
        Assert.Single(await reread.Scopes.FindByNamesAsync([name, "no-such-scope"], Ct).ToListAsync(Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await new GrainScopeStore(Fx.Client).CreateAsync(new OAuthScope { Name = name }, Ct));
    }
}
