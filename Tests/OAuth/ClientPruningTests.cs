using Dovecote.Grains.Interfaces.OAuth;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace Dovecote.Tests.OAuth;

/// <summary>Clients that registered themselves and never got a token are pruned; used and operator-made ones stay.</summary>
public sealed class ClientPruningTests(OAuthApiFixture api) : IClassFixture<OAuthApiFixture>
{
    [Fact]
    public async Task A_self_registered_client_never_used_is_pruned_after_a_day()
    {
        var unused = await api.RegisterPublicClientAsync($"http://127.0.0.1:{FreePorts.Next()}/callback", "never used");
        var used = await api.SignInAsync(OAuthApiFixture.DefaultTenant, OAuthApiFixture.DefaultPassword);
        var grains = api.Services.GetRequiredService<IGrainFactory>();
        var pruner = grains.GetGrain<IOAuthPrunerGrain>(OAuthKeys.Singleton);
        var now = DateTimeOffset.UtcNow;

        await pruner.PruneAsync(now.AddDays(-14), now.AddHours(23));
        Assert.NotNull(await FindAsync(unused.ClientId));

        var result = await pruner.PruneAsync(now.AddDays(-14), now.AddHours(25));
        Assert.True(result.Applications >= 1);
        Assert.Null(await FindAsync(unused.ClientId));
        Assert.NotNull(await FindAsync(used.Client.ClientId));
    }

    private async Task<object?> FindAsync(string clientId)
    {
        await using var scope = api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().FindByClientIdAsync(
            clientId,
            TestContext.Current.CancellationToken);
    }
}
