using Dovecote.Api.OAuth;
using Dovecote.Api.OAuth.Validation;
using Microsoft.Extensions.Options;

namespace Dovecote.Tests.OAuth;

/// <summary>The per-pod memory of valid tokens and grants: keyed by tenant, forgotten on revocation, bounded.</summary>
public sealed class TokenStatusCacheTests
{
    private static readonly ValidAccessToken Token = new("grant-1", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1), "access_token");

    private static TokenStatusCache Cache(int entries = 1000, double seconds = 5) =>
        new(Options.Create(new OAuthServerOptions { TokenStatusCacheEntries = entries, TokenStatusCacheLifetime = TimeSpan.FromSeconds(seconds) }));

    [Fact]
    public void One_tenants_entry_never_answers_for_another()
    {
        using var cache = Cache();
        cache.RememberToken("acme", "token-1", Token, cache.Version);
        cache.RememberGrant("acme", "grant-1", cache.Version);

        Assert.True(cache.TryGetToken("acme", "token-1", out var found));
        Assert.Equal(Token, found);
        Assert.True(cache.IsGrantKnownValid("acme", "grant-1"));
        Assert.False(cache.TryGetToken("default", "token-1", out _));
        Assert.False(cache.IsGrantKnownValid("default", "grant-1"));
        // Same ids, other kind: a token id is never taken for a grant id.
        Assert.False(cache.IsGrantKnownValid("acme", "token-1"));
    }

    [Fact]
    public void A_revocation_forgets_at_once_and_a_read_from_before_it_is_not_remembered()
    {
        using var cache = Cache();
        cache.RememberToken("acme", "token-1", Token, cache.Version);
        cache.RememberGrant("acme", "grant-1", cache.Version);
        cache.ForgetToken("acme", "token-1");
        cache.ForgetGrant("acme", "grant-1");
        Assert.False(cache.TryGetToken("acme", "token-1", out _));
        Assert.False(cache.IsGrantKnownValid("acme", "grant-1"));

        // A check that read the grain before a revocation elsewhere on this pod finished must not store its "valid".
        var before = cache.Version;
        cache.ForgetGrant("acme", "grant-2");
        cache.RememberGrant("acme", "grant-1", before);
        cache.RememberToken("acme", "token-1", Token, before);
        Assert.False(cache.IsGrantKnownValid("acme", "grant-1"));
        Assert.False(cache.TryGetToken("acme", "token-1", out _));
    }

    [Fact]
    public void It_holds_no_more_than_its_size()
    {
        using var cache = Cache(entries: 100);
        for (var i = 0; i < 300; i++) cache.RememberGrant("acme", $"grant-{i}", cache.Version);
        Assert.InRange(Enumerable.Range(0, 300).Count(i => cache.IsGrantKnownValid("acme", $"grant-{i}")), 1, 100);
    }

    [Fact]
    public void A_lifetime_of_zero_remembers_nothing()
    {
        using var cache = Cache(seconds: 0);
        cache.RememberGrant("acme", "grant-1", cache.Version);
        Assert.False(cache.IsGrantKnownValid("acme", "grant-1"));
    }
}
