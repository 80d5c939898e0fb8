using Microsoft.Extensions.Caching.Memory;

namespace Dovecote.Api.OAuth.Validation;

/// <summary>
/// This pod's short memory of access-token entries and grants found valid in their grains, so that /mcp reads them once
/// per <see cref="OAuthServerOptions.TokenStatusCacheLifetime"/> instead of on every call. Only ids, dates and the token
/// type are kept, never a token. Keys carry the tenant, and an entry is only stored when its grain says it belongs to that
/// tenant, so one tenant's entry never answers for another. A revocation through this pod's stores forgets the entry at
/// once; on the other pods it takes effect when their entry expires, at most the lifetime later.
/// </summary>
public sealed class TokenStatusCache : IDisposable
{
    private readonly MemoryCache _entries;
    private readonly TimeSpan _lifetime;
    // Bumped by every Forget: a grain read that started before a revocation must not be remembered after it.
    private long _forgets;

    public TokenStatusCache(IOptions<OAuthServerOptions> options)
    {
        _lifetime = options.Value.TokenStatusCacheLifetime;
        _entries = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.TokenStatusCacheEntries });
    }

    /// <summary>Taken before the grain read whose answer is then passed to <see cref="RememberToken"/> or <see cref="RememberGrant"/>.</summary>
    public long Version => Interlocked.Read(ref _forgets);

    public bool TryGetToken(string tenant, string tokenId, out ValidAccessToken token) =>
        _entries.TryGetValue(new Key(Kind.Token, tenant, tokenId), out token!);

    public bool IsGrantKnownValid(string tenant, string grantId) => _entries.TryGetValue(new Key(Kind.Grant, tenant, grantId), out _);

    public void RememberToken(string tenant, string tokenId, ValidAccessToken token, long version) =>
        Remember(new Key(Kind.Token, tenant, tokenId), token, version);

    public void RememberGrant(string tenant, string grantId, long version) => Remember(new Key(Kind.Grant, tenant, grantId), true, version);

    /// <summary>Called by the token store whenever a token entry changes or goes (revoked, redeemed, deleted).</summary>
    public void ForgetToken(string? tenant, string? tokenId) => Forget(Kind.Token, tenant, tokenId);

    /// <summary>Called by the authorization store whenever a grant changes or goes.</summary>
    public void ForgetGrant(string? tenant, string? grantId) => Forget(Kind.Grant, tenant, grantId);

    private void Remember(Key key, object value, long version)
    {
        if (_lifetime <= TimeSpan.Zero || Version != version) return;
        _entries.Set(key, value, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _lifetime });
        // A Forget between the check above and the Set: it may have run before the entry existed, so undo the Set.
        if (Version != version) _entries.Remove(key);
    }

    private void Forget(Kind kind, string? tenant, string? id)
    {
        Interlocked.Increment(ref _forgets);
        if (!string.IsNullOrEmpty(tenant) && !string.IsNullOrEmpty(id)) _entries.Remove(new Key(kind, tenant, id));
    }

    public void Dispose() => _entries.Dispose();

    private enum Kind : byte { Token, Grant }

    private readonly record struct Key(Kind Kind, string Tenant, string Id);
}

/// <summary>What /mcp needs from a valid access token's entry: its grant, and the dates and type the entry holds.</summary>
public sealed record ValidAccessToken(string AuthorizationId, DateTimeOffset? CreationDate, DateTimeOffset? ExpirationDate, string? Type);
