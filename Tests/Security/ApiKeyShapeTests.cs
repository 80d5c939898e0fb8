using Dovecote.Api.Security;
using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Tests.Security;

/// <summary>The strict shape checked before a key grain is called must accept every key the tenant grain mints.</summary>
[Collection(GrainClusterCollection.Name)]
public sealed class ApiKeyShapeTests(GrainClusterFixture fx)
{
    [Fact]
    public async Task Every_minted_key_has_the_shape_the_handler_lets_through()
    {
        var tenant = GrainClusterFixture.UniqueTenant("shape");
        using var scope = TenantContext.Enter(tenant);
        var grain = fx.Client.GetGrain<ITenantGrain>(tenant);
        await grain.UpsertAsync("Shape", null);

        for (var i = 0; i < 5; i++)
        {
            var created = await grain.CreateApiKeyAsync($"key-{i}");
            Assert.True(ApiKeyAuthenticationHandler.IsMintedShape(created.Key), $"a minted key was refused by shape: {created.Key[..17]}...");
        }
    }

    [Theory]
    [InlineData("dvc_abcdefghijkl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true)]
    [InlineData("dvc_abcdefghijkl_-_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true)] // base64url secrets may hold '_' and '-'
    [InlineData("dvc_abcdefghijkl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("dvc_abcdefghijkl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("dvc_abcdefghijk1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("dvc_abcdefghijkL_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("dvc_abcdefghijklmAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("dvk_abcdefghijkl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("dvc_abcdefghijkl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false)]
    public void Only_the_minted_shape_passes(string key, bool passes) => Assert.Equal(passes, ApiKeyAuthenticationHandler.IsMintedShape(key));
}
