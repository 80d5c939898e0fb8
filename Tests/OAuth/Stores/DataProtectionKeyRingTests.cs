using Dovecote.Api.DataProtection;
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
        var elements = await fx.Client.GetGrain<IKeyRingGrain>(IKeyRingGrain.DefaultKey).GetAllAsync();
        Assert.Contains(elements, e => e.Contains("<masterKey", StringComparison.Ordinal));
        // ...and encrypted at rest: the stored row holds no key XML.
        var stored = fx.StoredText().Where(row => row.Key.Contains("dp-keyring", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(stored);
        Assert.DoesNotContain(stored, row => row.Text.Contains("masterKey", StringComparison.Ordinal));

        await using var second = Pod();
        Assert.Equal("the login cookie", second.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Unprotect(protectedText));
    }
}
