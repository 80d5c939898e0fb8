using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Api.OAuth.Validation;
using static Dovecote.Api.OAuth.Stores.StoreValues;

namespace Dovecote.Api.OAuth.Stores;

/// <summary>
/// OpenIddict authorizations on grains, reached by id or through the subject and application indexes. There is no
/// index of all authorizations, so listing, counting and the IQueryable overloads (used by no OpenIddict handler) are not supported.
/// Every change to one (revoked, deleted) is also forgotten by this pod's <see cref="TokenStatusCache"/>, once written.
/// </summary>
public sealed class GrainAuthorizationStore(IGrainFactory grains, TimeProvider time, TokenStatusCache statuses) : IOpenIddictAuthorizationStore<OAuthAuthorization>
{
    private const string What = "authorization";

    private IOAuthAuthorizationGrain Grain(string id) => grains.GetGrain<IOAuthAuthorizationGrain>(OAuthKeys.Entity(id));

    public ValueTask<long> CountAsync(CancellationToken cancellationToken) => throw Unsupported();
    public ValueTask<long> CountAsync<TResult>(Func<IQueryable<OAuthAuthorization>, IQueryable<TResult>> query, CancellationToken cancellationToken) =>
        throw Unsupported();
    public ValueTask<TResult?> GetAsync<TState, TResult>(
        Func<IQueryable<OAuthAuthorization>, TState, IQueryable<TResult>> query,
        TState state,
        CancellationToken cancellationToken) => throw Unsupported();
    public IAsyncEnumerable<OAuthAuthorization> ListAsync(int? count, int? offset, CancellationToken cancellationToken) => throw Unsupported();
    public IAsyncEnumerable<TResult> ListAsync<TState, TResult>(
        Func<IQueryable<OAuthAuthorization>, TState, IQueryable<TResult>> query,
        TState state,
        CancellationToken cancellationToken) => throw Unsupported();

    public async ValueTask CreateAsync(OAuthAuthorization authorization, CancellationToken cancellationToken)
    {
        authorization.Id = IdOrNew(authorization.Id);
        authorization.CreationDate ??= time.GetUtcNow();
        authorization.ConcurrencyToken = await Grain(authorization.Id).CreateAsync(authorization)
            ?? throw new InvalidOperationException($"An authorization with id '{authorization.Id}' already exists.");
    }

    public async ValueTask DeleteAsync(OAuthAuthorization authorization, CancellationToken cancellationToken)
    {
        try { Deleted(await Grain(authorization.Id).DeleteAsync(authorization.ConcurrencyToken), What); }
        finally { statuses.ForgetGrant(authorization.Subject, authorization.Id); }
    }

    public async ValueTask UpdateAsync(OAuthAuthorization authorization, CancellationToken cancellationToken)
    {
        try { authorization.ConcurrencyToken = Updated(await Grain(authorization.Id).UpdateAsync(authorization, authorization.ConcurrencyToken), What); }
        finally { statuses.ForgetGrant(authorization.Subject, authorization.Id); }
    }

    public async IAsyncEnumerable<OAuthAuthorization> FindAsync(string? subject, string? client, string? status, string? type, ImmutableArray<string>? scopes,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var authorization in LoadAsync(await CandidateIdsAsync(subject, client), id => Grain(id).GetAsync(), cancellationToken))
        {
            if ((subject is null || authorization.Subject == subject)
                && (client is null || authorization.ApplicationId == client)
                && (status is null || authorization.Status == status)
                && (type is null || authorization.Type == type)
                && (scopes is not { } wanted || wanted.All(authorization.Scopes.Contains)))
                yield return authorization;
        }
    }

    public async IAsyncEnumerable<OAuthAuthorization> FindByApplicationIdAsync(string identifier, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        await foreach (var authorization in FindAsync(null, identifier, null, null, null, cancellationToken)) yield return authorization;
    }

    public async ValueTask<OAuthAuthorization?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return await Grain(identifier).GetAsync();
    }

    public async IAsyncEnumerable<OAuthAuthorization> FindBySubjectAsync(string subject, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        await foreach (var authorization in FindAsync(subject, null, null, null, null, cancellationToken)) yield return authorization;
    }

    public ValueTask<OAuthAuthorization> InstantiateAsync(CancellationToken cancellationToken) => new(new OAuthAuthorization());

    public async ValueTask<long> PruneAsync(DateTimeOffset threshold, CancellationToken cancellationToken) =>
        (await grains.GetGrain<IOAuthPrunerGrain>(OAuthKeys.Singleton).PruneAsync(threshold, time.GetUtcNow())).Authorizations;

    public async ValueTask<long> RevokeAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken)
    {
        long revoked = 0;
        await foreach (var authorization in FindAsync(subject, client, status, type, null, cancellationToken))
        {
            try { if (await Grain(authorization.Id).RevokeAsync()) revoked++; }
            finally { statuses.ForgetGrant(authorization.Subject, authorization.Id); }
        }
        return revoked;
    }

    public ValueTask<long> RevokeByApplicationIdAsync(string identifier, CancellationToken cancellationToken) =>
        RevokeAsync(null, Required(identifier), null, null, cancellationToken);

    public ValueTask<long> RevokeBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        RevokeAsync(Required(subject), null, null, null, cancellationToken);

    /// <summary>A superset of the matches: the subject's authorizations, else the application's.</summary>
    private async Task<List<string>> CandidateIdsAsync(string? subject, string? client) =>
        !string.IsNullOrEmpty(subject) ? await grains.ListIndexAsync(OAuthKeys.SubjectAuthorizations(subject))
        : !string.IsNullOrEmpty(client) ? await grains.ListIndexAsync(OAuthKeys.ApplicationAuthorizations(client))
        : throw new NotSupportedException("Authorizations can only be searched by subject or application.");

    private static string Required(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return value;
    }

    private static NotSupportedException Unsupported() =>
        new("The grain authorization store has no index of all authorizations; search by id, subject or application.");

    // Accessors: in memory only.

    public ValueTask<string?> GetApplicationIdAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new(authorization.ApplicationId);
    public ValueTask<DateTimeOffset?> GetCreationDateAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) =>
        new(authorization.CreationDate);
    public ValueTask<string?> GetIdAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new(authorization.Id);
    public ValueTask<ImmutableDictionary<string, JsonElement>> GetPropertiesAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) =>
        new(ReadProperties(authorization.Properties));
    public ValueTask<ImmutableArray<string>> GetScopesAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) =>
        new([.. authorization.Scopes]);
    public ValueTask<string?> GetStatusAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new(authorization.Status);
    public ValueTask<string?> GetSubjectAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new(authorization.Subject);
    public ValueTask<string?> GetTypeAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new(authorization.Type);

    public ValueTask SetApplicationIdAsync(OAuthAuthorization authorization, string? identifier, CancellationToken cancellationToken)
    {
        authorization.ApplicationId = identifier;
        return default;
    }
    public ValueTask SetCreationDateAsync(OAuthAuthorization authorization, DateTimeOffset? date, CancellationToken cancellationToken)
    {
        authorization.CreationDate = date;
        return default;
    }
    public ValueTask SetPropertiesAsync(
        OAuthAuthorization authorization,
        ImmutableDictionary<string, JsonElement> properties,
        CancellationToken cancellationToken)
    {
        authorization.Properties = WriteProperties(properties);
        return default;
    }
    public ValueTask SetScopesAsync(OAuthAuthorization authorization, ImmutableArray<string> scopes, CancellationToken cancellationToken)
    {
        authorization.Scopes = WriteList(scopes);
        return default;
    }
    public ValueTask SetStatusAsync(OAuthAuthorization authorization, string? status, CancellationToken cancellationToken)
    {
        authorization.Status = status;
        return default;
    }
    public ValueTask SetSubjectAsync(OAuthAuthorization authorization, string? subject, CancellationToken cancellationToken)
    {
        authorization.Subject = subject;
        return default;
    }
    public ValueTask SetTypeAsync(OAuthAuthorization authorization, string? type, CancellationToken cancellationToken)
    {
        authorization.Type = type;
        return default;
    }
}
