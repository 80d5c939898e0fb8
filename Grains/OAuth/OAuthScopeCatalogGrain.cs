using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.OAuth;

/// <summary>All scopes in one grain; names are unique, as in the EF store.</summary>
[GrainType("oauth-scopes")]
public sealed class OAuthScopeCatalogGrain(
    [PersistentState("oauth-scopes")] IPersistentState<OAuthScopeCatalogState> state) : Grain, IOAuthScopeCatalogGrain
{
    private Dictionary<string, OAuthScope> Scopes => state.State.Scopes;

    Task<List<OAuthScope>> IOAuthScopeCatalogGrain.ListAsync() => Task.FromResult(Scopes.Values.ToList());

    async Task<string?> IOAuthScopeCatalogGrain.CreateAsync(OAuthScope scope)
    {
        if (Scopes.ContainsKey(scope.Id) || NameTaken(scope)) return null;
        return await SaveAsync(scope);
    }

    async Task<string?> IOAuthScopeCatalogGrain.UpdateAsync(OAuthScope scope, string expectedConcurrencyToken)
    {
        if (!Scopes.TryGetValue(scope.Id, out var current) || current.ConcurrencyToken != expectedConcurrencyToken || NameTaken(scope)) return null;
        return await SaveAsync(scope);
    }

    async Task<bool> IOAuthScopeCatalogGrain.DeleteAsync(string id, string expectedConcurrencyToken)
    {
        if (!Scopes.TryGetValue(id, out var current) || current.ConcurrencyToken != expectedConcurrencyToken) return false;
        Scopes.Remove(id);
        await state.WriteOrReloadAsync(this);
        return true;
    }

    private bool NameTaken(OAuthScope scope) => Scopes.Values.Any(s => s.Id != scope.Id && s.Name == scope.Name);

    private async Task<string> SaveAsync(OAuthScope scope)
    {
        scope.ConcurrencyToken = ConcurrencyTokens.New();
        Scopes[scope.Id] = scope;
        await state.WriteOrReloadAsync(this);
        return scope.ConcurrencyToken;
    }
}
