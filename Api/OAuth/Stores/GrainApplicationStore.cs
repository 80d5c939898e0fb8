using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dovecote.Grains.Interfaces.OAuth;
using Microsoft.IdentityModel.Tokens;
using static Dovecote.Api.OAuth.Stores.StoreValues;

namespace Dovecote.Api.OAuth.Stores;

/// <summary>
/// OpenIddict applications on grains. The Id is the client_id, so the hot <c>FindByClientIdAsync</c> is one grain call.
/// Queries run in memory over the directory's shards: they serve only the rare list and count calls.
/// </summary>
public sealed class GrainApplicationStore(IGrainFactory grains, TimeProvider time) : IOpenIddictApplicationStore<OAuthApplication>
{
    private const string What = "application";

    private IOAuthApplicationGrain Grain(string id) => grains.GetGrain<IOAuthApplicationGrain>(OAuthKeys.Application(id));

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken) => (await grains.ListAllApplicationsAsync()).Count;

    public async ValueTask<long> CountAsync<TResult>(Func<IQueryable<OAuthApplication>, IQueryable<TResult>> query, CancellationToken cancellationToken) =>
        query((await LoadAllAsync(cancellationToken)).AsQueryable()).LongCount();

    public async ValueTask CreateAsync(OAuthApplication application, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(application.Id))
            application.Id = application.ClientId ?? throw new ArgumentException("An application needs a client_id.", nameof(application));
        if (!Registration.ClientIds.IsWellFormed(application.Id))
            throw new ArgumentException(
                $"client_id '{application.Id}' is neither \"dvc-\" and 48 hex digits nor a metadata-document URL; it could never be found.",
                nameof(application));
        if (application.CreatedAt == default) application.CreatedAt = time.GetUtcNow();
        application.ConcurrencyToken = await Grain(application.Id).CreateAsync(application)
            ?? throw new InvalidOperationException($"An application with client_id '{application.Id}' already exists.");
    }

    public async ValueTask DeleteAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        Deleted(await Grain(application.Id).DeleteAsync(application.ConcurrencyToken), What);

    public async ValueTask UpdateAsync(OAuthApplication application, CancellationToken cancellationToken)
    {
        if (application.ClientId != application.Id) throw new InvalidOperationException("The client_id of an application cannot change.");
        application.ConcurrencyToken = Updated(await Grain(application.Id).UpdateAsync(application, application.ConcurrencyToken), What);
    }

    public async ValueTask<OAuthApplication?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return await Grain(identifier).GetAsync();
    }

    /// <summary>
    /// Every /authorize, /token and /revoke looks the client up here, for any client_id anyone sends: one that cannot be ours
    /// is answered without touching a grain, so a flood of random ids activates nothing.
    /// </summary>
    public ValueTask<OAuthApplication?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken) =>
        Registration.ClientIds.IsWellFormed(identifier) ? FindByIdAsync(identifier, cancellationToken) : new((OAuthApplication?)null);

    // Used only by the end-session endpoint, which Dovecote does not enable; a scan is fine.
    public IAsyncEnumerable<OAuthApplication> FindByPostLogoutRedirectUriAsync(string uri, CancellationToken cancellationToken) =>
        WhereAsync(a => a.PostLogoutRedirectUris.Contains(uri, StringComparer.Ordinal), cancellationToken);

    public IAsyncEnumerable<OAuthApplication> FindByRedirectUriAsync(string uri, CancellationToken cancellationToken) =>
        WhereAsync(a => a.RedirectUris.Contains(uri, StringComparer.Ordinal), cancellationToken);

    public async ValueTask<TResult?> GetAsync<TState, TResult>(
        Func<IQueryable<OAuthApplication>, TState, IQueryable<TResult>> query,
        TState state,
        CancellationToken cancellationToken) =>
        query((await LoadAllAsync(cancellationToken)).AsQueryable(), state).FirstOrDefault();

    public ValueTask<OAuthApplication> InstantiateAsync(CancellationToken cancellationToken) => new(new OAuthApplication());

    public async IAsyncEnumerable<OAuthApplication> ListAsync(int? count, int? offset, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ids = (await grains.ListAllApplicationsAsync()).Skip(offset ?? 0).Take(count ?? int.MaxValue);
        await foreach (var application in LoadAsync(ids, id => Grain(id).GetAsync(), cancellationToken)) yield return application;
    }

    public async IAsyncEnumerable<TResult> ListAsync<TState, TResult>(Func<IQueryable<OAuthApplication>, TState, IQueryable<TResult>> query, TState state,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var result in query((await LoadAllAsync(cancellationToken)).AsQueryable(), state)) yield return result;
    }

    private async IAsyncEnumerable<OAuthApplication> WhereAsync(
        Func<OAuthApplication, bool> predicate,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var application in await LoadAllAsync(cancellationToken))
            if (predicate(application)) yield return application;
    }

    private async Task<List<OAuthApplication>> LoadAllAsync(CancellationToken cancellationToken) =>
        await LoadAsync(await grains.ListAllApplicationsAsync(), id => Grain(id).GetAsync(), cancellationToken).ToListAsync(cancellationToken);

    // Accessors: in memory only; nothing is stored until CreateAsync or UpdateAsync.

    public ValueTask<string?> GetApplicationTypeAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ApplicationType);
    public ValueTask<string?> GetClientIdAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ClientId);
    public ValueTask<string?> GetClientSecretAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ClientSecret);
    public ValueTask<string?> GetClientTypeAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ClientType);
    public ValueTask<string?> GetConsentTypeAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ConsentType);
    public ValueTask<string?> GetDisplayNameAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.DisplayName);
    public ValueTask<ImmutableDictionary<CultureInfo, string>> GetDisplayNamesAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new(ReadCultures(application.DisplayNames));
    public ValueTask<string?> GetIdAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.Id);
    public ValueTask<JsonWebKeySet?> GetJsonWebKeySetAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new(application.JsonWebKeySet is { Length: > 0 } json ? JsonWebKeySet.Create(json) : null);
    public ValueTask<ImmutableArray<string>> GetPermissionsAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new([.. application.Permissions]);
    public ValueTask<ImmutableArray<string>> GetPostLogoutRedirectUrisAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new([.. application.PostLogoutRedirectUris]);
    public ValueTask<ImmutableDictionary<string, JsonElement>> GetPropertiesAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new(ReadProperties(application.Properties));
    public ValueTask<ImmutableArray<string>> GetRedirectUrisAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new([.. application.RedirectUris]);
    public ValueTask<ImmutableArray<string>> GetRequirementsAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new([.. application.Requirements]);
    public ValueTask<ImmutableDictionary<string, string>> GetSettingsAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new(application.Settings.ToImmutableDictionary(StringComparer.Ordinal));

    public ValueTask SetApplicationTypeAsync(OAuthApplication application, string? type, CancellationToken cancellationToken)
    {
        application.ApplicationType = type;
        return default;
    }
    public ValueTask SetClientIdAsync(OAuthApplication application, string? identifier, CancellationToken cancellationToken)
    {
        application.ClientId = identifier;
        return default;
    }
    public ValueTask SetClientSecretAsync(OAuthApplication application, string? secret, CancellationToken cancellationToken)
    {
        application.ClientSecret = secret;
        return default;
    }
    public ValueTask SetClientTypeAsync(OAuthApplication application, string? type, CancellationToken cancellationToken)
    {
        application.ClientType = type;
        return default;
    }
    public ValueTask SetConsentTypeAsync(OAuthApplication application, string? type, CancellationToken cancellationToken)
    {
        application.ConsentType = type;
        return default;
    }
    public ValueTask SetDisplayNameAsync(OAuthApplication application, string? name, CancellationToken cancellationToken)
    {
        application.DisplayName = name;
        return default;
    }
    public ValueTask SetDisplayNamesAsync(OAuthApplication application, ImmutableDictionary<CultureInfo, string> names, CancellationToken cancellationToken)
    {
        application.DisplayNames = WriteCultures(names);
        return default;
    }
    public ValueTask SetJsonWebKeySetAsync(OAuthApplication application, JsonWebKeySet? set, CancellationToken cancellationToken)
    {
        // JsonData keeps the document a set was parsed from; a set built in code is written as its keys.
        application.JsonWebKeySet = set is null ? null : set.JsonData is { Length: > 0 } json ? json : JsonSerializer.Serialize(new { keys = set.Keys });
        return default;
    }
    public ValueTask SetPermissionsAsync(OAuthApplication application, ImmutableArray<string> permissions, CancellationToken cancellationToken)
    {
        application.Permissions = WriteList(permissions);
        return default;
    }
    public ValueTask SetPostLogoutRedirectUrisAsync(OAuthApplication application, ImmutableArray<string> uris, CancellationToken cancellationToken)
    {
        application.PostLogoutRedirectUris = WriteList(uris);
        return default;
    }
    public ValueTask SetPropertiesAsync(OAuthApplication application, ImmutableDictionary<string, JsonElement> properties, CancellationToken cancellationToken)
    {
        application.Properties = WriteProperties(properties);
        // How the client was created (ClientRegistration.KindProperty) decides whether pruning may remove it unused.
        if (properties.TryGetValue(Registration.ClientRegistration.KindProperty, out var kind) && kind.ValueKind == JsonValueKind.String)
            application.RegistrationKind = kind.GetString()!;
        return default;
    }
    public ValueTask SetRedirectUrisAsync(OAuthApplication application, ImmutableArray<string> uris, CancellationToken cancellationToken)
    {
        application.RedirectUris = WriteList(uris);
        return default;
    }
    public ValueTask SetRequirementsAsync(OAuthApplication application, ImmutableArray<string> requirements, CancellationToken cancellationToken)
    {
        application.Requirements = WriteList(requirements);
        return default;
    }
    public ValueTask SetSettingsAsync(OAuthApplication application, ImmutableDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        application.Settings = settings.ToDictionary(StringComparer.Ordinal);
        return default;
    }
}
