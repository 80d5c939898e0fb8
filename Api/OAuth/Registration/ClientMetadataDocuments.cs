using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Dovecote.Api.Audit;
using Dovecote.Api.RateLimiting;
using Dovecote.Api.Security;
using Dovecote.Grains.Interfaces.OAuth;
using Dovecote.Grains.Security;
using Microsoft.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Dovecote.Api.OAuth.Registration;

/// <summary>
/// Client ID Metadata Documents: a client_id that is an https URL names its own metadata. At /authorize the document is
/// fetched (SSRF-guarded, size and time limits, cached) and kept as an OpenIddict application whose id is the URL, so the
/// usual checks (redirect URI, PKCE) then run unchanged.
/// </summary>
public sealed class ClientMetadataDocuments(
    IHttpClientFactory httpClients,
    IOpenIddictApplicationManager applications,
    IGrainFactory grains,
    IOptions<RegistrationLimitOptions> limits,
    OutboundAddressGuard guard,
    TimeProvider time,
    AuditTrail audit,
    ILogger<ClientMetadataDocuments> logger)
{
    public const string HttpClientName = "client-metadata";
    /// <summary>The same bound as a /register body: a document is a registration by other means.</summary>
    public const int MaxDocumentBytes = ClientRegistration.MaxDocumentBytes;
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan CacheFor = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _freshUntil = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether this client_id is a metadata-document URL: printable ASCII, at most 2,048 characters, https (http loopback only
    /// when private targets are allowed, for development).
    /// </summary>
    public bool IsDocumentUrl(string? clientId) =>
        clientId is not null && ClientIds.IsUrlShaped(clientId)
        && Uri.TryCreate(clientId, UriKind.Absolute, out var uri) && uri.AbsolutePath.Length > 1
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && guard.AllowPrivateTargets && uri.IsLoopback));

    /// <summary>Whether this pod fetched the document within <see cref="CacheFor"/>.</summary>
    public bool IsFresh(string url) => _freshUntil.TryGetValue(url, out var until) && until > time.GetUtcNow();

    /// <summary>Makes sure the application for <paramref name="url"/> exists and is fresh; null when ready, else why not.</summary>
    public async Task<string?> EnsureApplicationAsync(string url, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (IsFresh(url)) return null;

        var (document, problem) = await FetchAsync(url, cancellationToken);
        if (document is null) return problem;
        if (Validate(url, document) is { } invalid) return invalid;

        var name = document.ClientName is { Length: > 0 } n ? n[..Math.Min(n.Length, 100)] : new Uri(url).Host;
        var descriptor = ClientRegistration.Describe(url, name, document.RedirectUris!, confidential: false, kind: OAuthRegistrationKinds.Cimd);
        if (await applications.FindByClientIdAsync(url, cancellationToken) is { } existing)
            await applications.UpdateAsync(existing, descriptor, cancellationToken);
        else
        {
            if (!await grains.Shard(url).HasRoomForUnusedAsync(limits.Value.MaxUnusedPerShard))
                return "too many registered clients are waiting for their first token on this server (OAuth__MaxUnusedRegisteredClients); try again later";
            await applications.CreateAsync(descriptor, cancellationToken);
            await audit.RecordAsync(AuditTrail.SystemTenant, "anonymous", "oauth.client.register", url, $"cimd, \"{name}\"");
        }
        _freshUntil[url] = now + CacheFor;
        return null;
    }

    private static string? Validate(string url, ClientRegistrationRequest document)
    {
        if (document.ClientId != url) return "the metadata document's client_id must equal its URL";
        if (document.TokenEndpointAuthMethod is { } method && method != ClientAuthenticationMethods.None)
            return "metadata-document clients must be public (token_endpoint_auth_method \"none\")";
        return ClientRegistration.Validate(document) is { } error ? error.Description : null;
    }

    private async Task<(ClientRegistrationRequest? Document, string? Problem)> FetchAsync(string url, CancellationToken cancellationToken)
    {
        if (guard.CheckUrl(url) is { } refused) return (null, $"the client metadata URL is not allowed: {refused}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(FetchTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode) return (null, $"fetching the client metadata document answered {(int)response.StatusCode}");
            if (response.Content.Headers.ContentLength > MaxDocumentBytes) return (null, "the client metadata document is larger than 16 KiB");

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var buffer = new MemoryStream();
            var chunk = new byte[8192];
            int read;
            while ((read = await body.ReadAsync(chunk, timeout.Token)) > 0)
            {
                if (buffer.Length + read > MaxDocumentBytes) return (null, "the client metadata document is larger than 16 KiB");
                buffer.Write(chunk, 0, read);
            }
            var document = JsonSerializer.Deserialize<ClientRegistrationRequest>(buffer.ToArray());
            return document is null ? (null, "the client metadata document is empty") : (document, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, "fetching the client metadata document timed out");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
        {
            logger.LogInformation("Client metadata document {Url} could not be used: {Error}", url, e.Message);
            return (null, e is JsonException ? "the client metadata document is not valid JSON" : "the client metadata document could not be fetched");
        }
    }

    /// <summary>
    /// Runs at /authorize before OpenIddict looks the client up. A fetch is a registration, so it counts against the same
    /// per-address limit as /register: nobody can make the server fetch URLs at will. Closed registration refuses documents
    /// from hosts not on DOVECOTE_CIMD_ALLOWED_HOSTS before anything is fetched or stored.
    /// </summary>
    public sealed class AuthorizationHandler(ClientMetadataDocuments documents, ClusterRateLimiter limiter, IOptions<OAuthServerOptions> options,
        IOptions<RegistrationOptions> registration)
        : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
                .UseSingletonHandler<AuthorizationHandler>()
                .SetOrder(OpenIddictServerHandlers.Authentication.ValidateAuthentication.Descriptor.Order - 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            if (!documents.IsDocumentUrl(context.ClientId)) return;
            if (!registration.Value.AcceptsDocumentFrom(new Uri(context.ClientId!)))
            {
                context.Reject(Errors.InvalidClient, "Registration is closed on this server, and client metadata documents are accepted only from hosts "
                    + "the operator allows (DOVECOTE_CIMD_ALLOWED_HOSTS); ask the operator for a client_id.");
                return;
            }
            if (documents.IsFresh(context.ClientId!)) return;
            if (context.Transaction.GetHttpRequest()?.HttpContext is { } http)
            {
                var decision = await limiter.HitAsync(
                    RegistrationEndpoints.RateLimitBucket,
                    ClusterRateLimiter.ClientKey(http),
                    options.Value.RegistrationPerAddress);
                if (!decision.Allowed)
                {
                    context.Reject(Errors.SlowDown, "Too many new client metadata documents from this address; try again in a minute.");
                    return;
                }
            }
            if (await documents.EnsureApplicationAsync(context.ClientId!, context.CancellationToken) is { } problem)
                context.Reject(Errors.InvalidClient, problem);
        }
    }
}
