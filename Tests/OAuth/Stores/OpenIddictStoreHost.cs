using Dovecote.Api.OAuth.Stores;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace Dovecote.Tests.OAuth.Stores;

/// <summary>
/// The real OpenIddict managers over the grain stores, on the test cluster's client: one instance stands for one pod.
/// Each <see cref="Scope"/> is a request, with its own manager entity cache.
/// </summary>
public sealed class OpenIddictStoreHost(IGrainFactory grains) : IAsyncDisposable
{
    private readonly ServiceProvider _services = Build(grains);

    public Scope NewScope() => new(_services.CreateAsyncScope());

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    private static ServiceProvider Build(IGrainFactory grains)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(grains);
        services.AddOpenIddict().AddCore(o => o.UseGrainStores());
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    public sealed class Scope(AsyncServiceScope scope) : IAsyncDisposable
    {
        public IOpenIddictApplicationManager Applications => scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        public IOpenIddictAuthorizationManager Authorizations => scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
        public IOpenIddictTokenManager Tokens => scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        public IOpenIddictScopeManager Scopes => scope.ServiceProvider.GetRequiredService<IOpenIddictScopeManager>();

        public ValueTask DisposeAsync() => scope.DisposeAsync();
    }
}
