using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dovecote.Grains.Interfaces.OAuth;
using static Dovecote.Api.OAuth.Stores.StoreValues;

namespace Dovecote.Api.OAuth.Stores;

/// <summary>
/// OpenIddict scopes in one catalog grain. Dovecote registers its scopes in code, but the scope manager must still
/// resolve (ID0472) and answers <c>FindByNamesAsync</c> for unregistered ones, so this is a complete, small store.
/// </summary>
public sealed class GrainScopeStore(IGrainFactory grains) : IOpenIddictScopeStore<OAuthScope>
{
    private const string What = "scope";

    private IOAuthScopeCatalogGrain Catalog => grains.GetGrain<IOAuthScopeCatalogGrain>(OAuthKeys.Singleton);

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken) => (await Catalog.ListAsync()).Count;

    public async ValueTask<long> CountAsync<TResult>(Func<IQueryable<OAuthScope>, IQueryable<TResult>> query, CancellationToken cancellationToken) =>
        query((await Catalog.ListAsync()).AsQueryable()).LongCount();

    public async ValueTask CreateAsync(OAuthScope scope, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(scope.Id)) scope.Id = NewId();
        scope.ConcurrencyToken = await Catalog.CreateAsync(scope)
            ?? throw new InvalidOperationException($"A scope named '{scope.Name}' or with id '{scope.Id}' already exists.");
    }

    public async ValueTask DeleteAsync(OAuthScope scope, CancellationToken cancellationToken) =>
        Deleted(await Catalog.DeleteAsync(scope.Id, scope.ConcurrencyToken), What);

    public async ValueTask UpdateAsync(OAuthScope scope, CancellationToken cancellationToken) =>
        scope.ConcurrencyToken = Updated(await Catalog.UpdateAsync(scope, scope.ConcurrencyToken), What);

    public async ValueTask<OAuthScope?> FindByIdAsync(string identifier, CancellationToken cancellationToken) =>
        (await Catalog.ListAsync()).FirstOrDefault(s => s.Id == identifier);

    public async ValueTask<OAuthScope?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        (await Catalog.ListAsync()).FirstOrDefault(s => s.Name == name);

    public async IAsyncEnumerable<OAuthScope> FindByNamesAsync(ImmutableArray<string> names, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var scope in await Catalog.ListAsync())
            if (scope.Name is { } name && names.Contains(name, StringComparer.Ordinal)) yield return scope;
    }

    public async IAsyncEnumerable<OAuthScope> FindByResourceAsync(string resource, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var scope in await Catalog.ListAsync())
            if (scope.Resources.Contains(resource, StringComparer.Ordinal)) yield return scope;
    }

    public async ValueTask<TResult?> GetAsync<TState, TResult>(
        Func<IQueryable<OAuthScope>, TState, IQueryable<TResult>> query,
        TState state,
        CancellationToken cancellationToken) =>
        query((await Catalog.ListAsync()).AsQueryable(), state).FirstOrDefault();

    public ValueTask<OAuthScope> InstantiateAsync(CancellationToken cancellationToken) => new(new OAuthScope());

    public async IAsyncEnumerable<OAuthScope> ListAsync(int? count, int? offset, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = (await Catalog.ListAsync()).OrderBy(s => s.Id, StringComparer.Ordinal).Skip(offset ?? 0).Take(count ?? int.MaxValue);
        foreach (var scope in page) yield return scope;
    }

    public async IAsyncEnumerable<TResult> ListAsync<TState, TResult>(Func<IQueryable<OAuthScope>, TState, IQueryable<TResult>> query, TState state,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var result in query((await Catalog.ListAsync()).AsQueryable(), state)) yield return result;
    }

    // Accessors: in memory only.

    public ValueTask<string?> GetDescriptionAsync(OAuthScope scope, CancellationToken cancellationToken) => new(scope.Description);
    public ValueTask<ImmutableDictionary<CultureInfo, string>> GetDescriptionsAsync(OAuthScope scope, CancellationToken cancellationToken) =>
        new(ReadCultures(scope.Descriptions));
    public ValueTask<string?> GetDisplayNameAsync(OAuthScope scope, CancellationToken cancellationToken) => new(scope.DisplayName);
    public ValueTask<ImmutableDictionary<CultureInfo, string>> GetDisplayNamesAsync(OAuthScope scope, CancellationToken cancellationToken) =>
        new(ReadCultures(scope.DisplayNames));
    public ValueTask<string?> GetIdAsync(OAuthScope scope, CancellationToken cancellationToken) => new(scope.Id);
    public ValueTask<string?> GetNameAsync(OAuthScope scope, CancellationToken cancellationToken) => new(scope.Name);
    public ValueTask<ImmutableDictionary<string, JsonElement>> GetPropertiesAsync(OAuthScope scope, CancellationToken cancellationToken) =>
        new(ReadProperties(scope.Properties));
    public ValueTask<ImmutableArray<string>> GetResourcesAsync(OAuthScope scope, CancellationToken cancellationToken) => new([.. scope.Resources]);

    public ValueTask SetDescriptionAsync(OAuthScope scope, string? description, CancellationToken cancellationToken)
    {
        scope.Description = description;
        return default;
    }
    public ValueTask SetDescriptionsAsync(OAuthScope scope, ImmutableDictionary<CultureInfo, string> descriptions, CancellationToken cancellationToken)
    {
        scope.Descriptions = WriteCultures(descriptions);
        return default;
    }
    public ValueTask SetDisplayNameAsync(OAuthScope scope, string? name, CancellationToken cancellationToken) { scope.DisplayName = name; return default; }
    public ValueTask SetDisplayNamesAsync(OAuthScope scope, ImmutableDictionary<CultureInfo, string> names, CancellationToken cancellationToken)
    {
        scope.DisplayNames = WriteCultures(names);
        return default;
    }
    public ValueTask SetNameAsync(OAuthScope scope, string? name, CancellationToken cancellationToken) { scope.Name = name; return default; }
    public ValueTask SetPropertiesAsync(OAuthScope scope, ImmutableDictionary<string, JsonElement> properties, CancellationToken cancellationToken)
    {
        scope.Properties = WriteProperties(properties);
        return default;
    }
    public ValueTask SetResourcesAsync(OAuthScope scope, ImmutableArray<string> resources, CancellationToken cancellationToken)
    {
        scope.Resources = WriteList(resources);
        return default;
    }
}
