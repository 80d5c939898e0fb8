using Dovecote.Tests.Tenants;

namespace Dovecote.Tests.OAuth.Stores;

/// <summary>What every store test needs: the cluster, and one "pod" of real OpenIddict managers over the grain stores.</summary>
public abstract class OpenIddictStoreTestBase(GrainClusterFixture fx) : IAsyncDisposable
{
    protected GrainClusterFixture Fx { get; } = fx;
    protected OpenIddictStoreHost Host { get; } = new(fx.Client);
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return Host.DisposeAsync();
    }
}
