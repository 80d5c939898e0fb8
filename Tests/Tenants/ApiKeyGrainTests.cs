using System.Security.Cryptography;
using System.Text;
using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Tests.Tenants;

[Collection(GrainClusterCollection.Name)]
public sealed class ApiKeyGrainTests(GrainClusterFixture fx)
{
    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private IApiKeyGrain NewKey() => fx.Client.GetGrain<IApiKeyGrain>(GrainClusterFixture.UniqueTenant("k"));

    [Fact]
    public async Task A_registered_key_cannot_be_bound_to_another_tenant()
    {
        var key = NewKey();
        await key.RegisterAsync("acme", Hash("first-secret-0123456789"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => key.RegisterAsync("globex", Hash("first-secret-0123456789")));
        await Assert.ThrowsAsync<InvalidOperationException>(() => key.RegisterAsync("acme", Hash("other-secret-0123456789")));
        await key.RegisterAsync("acme", Hash("first-secret-0123456789")); // a retried registration is fine

        Assert.Equal("acme", await key.VerifyAsync("first-secret-0123456789"));
    }

    [Fact]
    public async Task A_revoked_key_stays_revoked()
    {
        var key = NewKey();
        await key.RegisterAsync("acme", Hash("the-secret-0123456789"));

        await key.RevokeAsync();
        await key.RevokeAsync();

        Assert.Null(await key.VerifyAsync("the-secret-0123456789"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => key.RegisterAsync("acme", Hash("the-secret-0123456789")));
        await fx.Cluster.DeactivateAsync(key);
        Assert.Null(await key.VerifyAsync("the-secret-0123456789"));
    }

    [Fact]
    public async Task Registration_needs_a_tenant_and_a_sha256_hash()
    {
        var key = NewKey();

        await Assert.ThrowsAsync<ArgumentException>(() => key.RegisterAsync("Not A Tenant", Hash("x")));
        await Assert.ThrowsAsync<ArgumentException>(() => key.RegisterAsync("acme", [1, 2, 3]));
        Assert.Null(await key.VerifyAsync(""));
    }
}
