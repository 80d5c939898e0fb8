using Dovecote.Api.Security;
using Dovecote.Grains.Interfaces.DataProtection;
using Dovecote.Tests.Tenants;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Dovecote.Tests.OAuth.Stores;

[Collection(GrainClusterCollection.Name)]
public sealed class DataProtectionKeyRingTests(GrainClusterFixture fx)
{
    private ServiceProvider Pod()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IGrainFactory>(fx.Client);
        services.AddDataProtection().SetApplicationName("dovecote-tests").PersistKeysToGrains();
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task What_one_pod_protects_another_pod_unprotects()
    {
        await using var first = Pod();
        var protectedText = first.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Protect("the login cookie");

        // The key the first pod created is in the grain, not only in its memory or on this machine's disk.
        Assert.NotEmpty(await fx.Client.GetGrain<IKeyRingGrain>(IKeyRingGrain.DefaultKey).GetAllAsync());

        await using var second = Pod();
        Assert.Equal("the login cookie", second.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Unprotect(protectedText));
    }
}
