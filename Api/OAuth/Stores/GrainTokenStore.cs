using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Api.OAuth.Validation;
using static Dovecote.Api.OAuth.Stores.StoreValues;

namespace Dovecote.Api.OAuth.Stores;

/// <summary>
/// OpenIddict token entries on grains, reached by id, by reference id, or through their authorization (and, for tokens
/// with none, their application). Listing, counting and the IQueryable overloads (used by no OpenIddict handler) are not supported.
/// Every change to an entry (revoked, redeemed, deleted) is also forgotten by this pod's <see cref="TokenStatusCache"/>, once written.
/// </summary>
public sealed class GrainTokenStore(IGrainFactory grains, TimeProvider time, TokenStatusCache statuses) : IOpenIddictTokenStore<OAuthToken>
{
    private const string What = "token";

    private IOAuthTokenGrain Grain(string id) => grains.GetGrain<IOAuthTokenGrain>(OAuthKeys.Entity(id));

    public ValueTask<long> CountAsync(CancellationToken cancellationToken) => throw Unsupported();
    public ValueTask<long> CountAsync<TResult>(Func<IQueryable<OAuthToken>, IQueryable<TResult>> query, CancellationToken cancellationToken) =>
        throw Unsupported();
    public ValueTask<TResult?> GetAsync<TState, TResult>(
        Func<IQueryable<OAuthToken>, TState, IQueryable<TResult>> query,
        TState state,
        CancellationToken cancellationToken) => throw Unsupported();
    public IAsyncEnumerable<OAuthToken> ListAsync(int? count, int? offset, CancellationToken cancellationToken) => throw Unsupported();
    public IAsyncEnumerable<TResult> ListAsync<TState, TResult>(
        Func<IQueryable<OAuthToken>, TState, IQueryable<TResult>> query,
        TState state,
        CancellationToken cancellationToken) => throw Unsupported();

    public async ValueTask CreateAsync(OAuthToken token, CancellationToken cancellationToken)
    {
        token.Id = IdOrNew(token.Id);
        token.CreationDate ??= time.GetUtcNow();
        token.ConcurrencyToken = await Grain(token.Id).CreateAsync(token)
            ?? throw new InvalidOperationException($"A token with id '{token.Id}' or with its reference id already exists.");
    }

    public async ValueTask DeleteAsync(OAuthToken token, CancellationToken cancellationToken)
    {
        try { Deleted(await Grain(token.Id).DeleteAsync(token.ConcurrencyToken), What); }
        finally { statuses.ForgetToken(token.Subject, token.Id); }
    }

    /// <summary>A stale copy throws <see cref="OpenIddictExceptions.ConcurrencyException"/>: that is what makes a second redemption of a code fail.</summary>
    public async ValueTask UpdateAsync(OAuthToken token, CancellationToken cancellationToken)
    {
        try { token.ConcurrencyToken = Updated(await Grain(token.Id).UpdateAsync(token, token.ConcurrencyToken), What); }
        finally { statuses.ForgetToken(token.Subject, token.Id); }
    }

    public async IAsyncEnumerable<OAuthToken> FindAsync(
        string? subject,
        string? client,
        string? status,
        string? type,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var token in LoadAsync(await CandidateIdsAsync(subject, client), id => Grain(id).GetAsync(), cancellationToken))
        {
            if ((subject is null || token.Subject == subject)
                && (client is null || token.ApplicationId == client)
                && (status is null || token.Status == status)
                && (type is null || token.Type == type))
                yield return token;
        }
    }

    public async IAsyncEnumerable<OAuthToken> FindByApplicationIdAsync(string identifier, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        await foreach (var token in FindAsync(null, identifier, null, null, cancellationToken)) yield return token;
    }

    public async IAsyncEnumerable<OAuthToken> FindByAuthorizationIdAsync(string identifier, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        var ids = await grains.ListIndexAsync(OAuthKeys.AuthorizationTokens(identifier));
        await foreach (var token in LoadAsync(ids, id => Grain(id).GetAsync(), cancellationToken))
            if (token.AuthorizationId == identifier) yield return token;
    }

    public async ValueTask<OAuthToken?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return await Grain(identifier).GetAsync();
    }

    /// <summary>The identifier arrives already obfuscated by the token manager.</summary>
    public async ValueTask<OAuthToken?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        if (await grains.GetGrain<IOAuthTokenReferenceGrain>(OAuthKeys.TokenReference(identifier)).GetTokenIdAsync() is not { } tokenId) return null;
        // A reference freed and re-bound between the two calls must not return another token.
        return await Grain(tokenId).GetAsync() is { } token && token.ReferenceId == identifier ? token : null;
    }

    public async IAsyncEnumerable<OAuthToken> FindBySubjectAsync(string subject, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        await foreach (var token in FindAsync(subject, null, null, null, cancellationToken)) yield return token;
    }

    public ValueTask<OAuthToken> InstantiateAsync(CancellationToken cancellationToken) => new(new OAuthToken());

    public async ValueTask<long> PruneAsync(DateTimeOffset threshold, CancellationToken cancellationToken) =>
        (await grains.GetGrain<IOAuthPrunerGrain>(OAuthKeys.Singleton).PruneAsync(threshold, time.GetUtcNow())).Tokens;

    public async ValueTask<long> RevokeAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken)
    {
        long revoked = 0;
        await foreach (var token in FindAsync(subject, client, status, type, cancellationToken))
            if (await RevokeAsync(token)) revoked++;
        return revoked;
    }

    public ValueTask<long> RevokeByApplicationIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return RevokeAsync(null, identifier, null, null, cancellationToken);
    }

    /// <summary>
    /// The replay defence: OpenIddict calls this when a code or refresh token is replayed (the admin revoke calls it too).
    /// The grant is compromised, so every token of it and the authorization itself are revoked, and the operator's grant list shows it.
    /// </summary>
    public async ValueTask<long> RevokeByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken)
    {
        long revoked = 0;
        await foreach (var token in FindByAuthorizationIdAsync(identifier, cancellationToken))
            if (await RevokeAsync(token)) revoked++;
        var authorization = grains.GetGrain<IOAuthAuthorizationGrain>(OAuthKeys.Entity(identifier));
        var tenant = (await authorization.GetAsync())?.Subject;
        await authorization.RevokeAsync();
        statuses.ForgetGrant(tenant, identifier);
        return revoked;
    }

    private async Task<bool> RevokeAsync(OAuthToken token)
    {
        try { return await Grain(token.Id).RevokeAsync(); }
        finally { statuses.ForgetToken(token.Subject, token.Id); }
    }

    public ValueTask<long> RevokeBySubjectAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        return RevokeAsync(subject, null, null, null, cancellationToken);
    }

    /// <summary>
    /// A superset of the matches: the tokens of the subject's (else the application's) authorizations, plus the
    /// application's tokens that have no authorization. Tokens with neither an authorization nor an application are reachable by id only.
    /// </summary>
    private async Task<List<string>> CandidateIdsAsync(string? subject, string? client)
    {
        var authorizations = !string.IsNullOrEmpty(subject) ? await grains.ListIndexAsync(OAuthKeys.SubjectAuthorizations(subject))
            : !string.IsNullOrEmpty(client) ? await grains.ListIndexAsync(OAuthKeys.ApplicationAuthorizations(client))
            : throw new NotSupportedException("Tokens can only be searched by subject or application.");
        var ids = new List<string>();
        foreach (var authorizationId in authorizations) ids.AddRange(await grains.ListIndexAsync(OAuthKeys.AuthorizationTokens(authorizationId)));
        if (!string.IsNullOrEmpty(client)) ids.AddRange(await grains.ListIndexAsync(OAuthKeys.ApplicationTokens(client)));
        return ids;
    }

    private static NotSupportedException Unsupported() =>
        new("The grain token store has no index of all tokens; search by id, reference id, authorization, subject or application.");

    // Accessors: in memory only.

    public ValueTask<string?> GetApplicationIdAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.ApplicationId);
    public ValueTask<string?> GetAuthorizationIdAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.AuthorizationId);
    public ValueTask<DateTimeOffset?> GetCreationDateAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.CreationDate);
    public ValueTask<DateTimeOffset?> GetExpirationDateAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.ExpirationDate);
    public ValueTask<string?> GetIdAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.Id);
    public ValueTask<string?> GetPayloadAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.Payload);
    public ValueTask<ImmutableDictionary<string, JsonElement>> GetPropertiesAsync(OAuthToken token, CancellationToken cancellationToken) =>
        new(ReadProperties(token.Properties));
    public ValueTask<DateTimeOffset?> GetRedemptionDateAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.RedemptionDate);
    public ValueTask<string?> GetReferenceIdAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.ReferenceId);
    public ValueTask<string?> GetStatusAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.Status);
    public ValueTask<string?> GetSubjectAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.Subject);
    public ValueTask<string?> GetTypeAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.Type);

    public ValueTask SetApplicationIdAsync(OAuthToken token, string? identifier, CancellationToken cancellationToken)
    {
        token.ApplicationId = identifier;
        return default;
    }
    public ValueTask SetAuthorizationIdAsync(OAuthToken token, string? identifier, CancellationToken cancellationToken)
    {
        token.AuthorizationId = identifier;
        return default;
    }
    public ValueTask SetCreationDateAsync(OAuthToken token, DateTimeOffset? date, CancellationToken cancellationToken)
    {
        token.CreationDate = date;
        return default;
    }
    public ValueTask SetExpirationDateAsync(OAuthToken token, DateTimeOffset? date, CancellationToken cancellationToken)
    {
        token.ExpirationDate = date;
        return default;
    }
    public ValueTask SetPayloadAsync(OAuthToken token, string? payload, CancellationToken cancellationToken) { token.Payload = payload; return default; }
    public ValueTask SetPropertiesAsync(OAuthToken token, ImmutableDictionary<string, JsonElement> properties, CancellationToken cancellationToken)
    {
        token.Properties = WriteProperties(properties);
        return default;
    }
    public ValueTask SetRedemptionDateAsync(OAuthToken token, DateTimeOffset? date, CancellationToken cancellationToken)
    {
        token.RedemptionDate = date;
        return default;
    }
    public ValueTask SetReferenceIdAsync(OAuthToken token, string? identifier, CancellationToken cancellationToken)
    {
        token.ReferenceId = identifier;
        return default;
    }
    public ValueTask SetStatusAsync(OAuthToken token, string? status, CancellationToken cancellationToken) { token.Status = status; return default; }
    public ValueTask SetSubjectAsync(OAuthToken token, string? subject, CancellationToken cancellationToken) { token.Subject = subject; return default; }
    public ValueTask SetTypeAsync(OAuthToken token, string? type, CancellationToken cancellationToken) { token.Type = type; return default; }
}
