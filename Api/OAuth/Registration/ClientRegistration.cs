using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dovecote.Grains.Interfaces.OAuth;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Api.OAuth.Registration;

/// <summary>RFC 7591 client metadata, as a client sends it to /register.</summary>
public sealed class ClientRegistrationRequest
{
    [JsonPropertyName("redirect_uris")] public List<string>? RedirectUris { get; set; }
    [JsonPropertyName("token_endpoint_auth_method")] public string? TokenEndpointAuthMethod { get; set; }
    [JsonPropertyName("grant_types")] public List<string>? GrantTypes { get; set; }
    [JsonPropertyName("response_types")] public List<string>? ResponseTypes { get; set; }
    [JsonPropertyName("client_name")] public string? ClientName { get; set; }
    [JsonPropertyName("scope")] public string? Scope { get; set; }
    [JsonPropertyName("client_id")] public string? ClientId { get; set; }

    // Read only to be bounded: Dovecote stores none of these, but an unbounded field is still an unbounded request.
    [JsonPropertyName("contacts")] public List<string>? Contacts { get; set; }
    [JsonPropertyName("client_uri")] public string? ClientUri { get; set; }
    [JsonPropertyName("logo_uri")] public string? LogoUri { get; set; }
    [JsonPropertyName("tos_uri")] public string? TosUri { get; set; }
    [JsonPropertyName("policy_uri")] public string? PolicyUri { get; set; }
    [JsonPropertyName("jwks_uri")] public string? JwksUri { get; set; }
    [JsonPropertyName("software_id")] public string? SoftwareId { get; set; }
    [JsonPropertyName("software_version")] public string? SoftwareVersion { get; set; }
}

/// <summary>The registered client, as RFC 7591 §3.2.1 returns it; the secret appears once, here.</summary>
public sealed record ClientRegistrationResponse(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("client_secret"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientSecret,
    [property: JsonPropertyName("client_id_issued_at")] long ClientIdIssuedAt,
    [property: JsonPropertyName("client_secret_expires_at"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ClientSecretExpiresAt,
    [property: JsonPropertyName("client_name")] string ClientName,
    [property: JsonPropertyName("redirect_uris")] IReadOnlyList<string> RedirectUris,
    [property: JsonPropertyName("grant_types")] IReadOnlyList<string> GrantTypes,
    [property: JsonPropertyName("response_types")] IReadOnlyList<string> ResponseTypes,
    [property: JsonPropertyName("token_endpoint_auth_method")] string TokenEndpointAuthMethod,
    [property: JsonPropertyName("scope")] string Scope);

/// <summary>A refusal in RFC 7591 §3.2.2 form.</summary>
public sealed record RegistrationError(string Error, string Description)
{
    public IResult ToResult() => Results.Json(new { error = Error, error_description = Description }, statusCode: StatusCodes.Status400BadRequest);
}

/// <summary>Validates client metadata and creates the OpenIddict application; shared by /register, bootstrap and CIMD.</summary>
public sealed class ClientRegistration(IOpenIddictApplicationManager applications, TimeProvider time, IGrainFactory grains,
    IOptions<RegistrationLimitOptions> limits)
{
    private static readonly string[] AuthMethods =
        [ClientAuthenticationMethods.None, ClientAuthenticationMethods.ClientSecretPost, ClientAuthenticationMethods.ClientSecretBasic];
    private static readonly string[] AllowedGrants = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken];

    /// <summary>
    /// Property on the application naming how it was created, one of <see cref="OAuthRegistrationKinds"/>; pruning spares bootstrapped clients.
    /// </summary>
    public const string KindProperty = "dovecote_registration";

    /// <summary>The whole /register body or metadata document; with the field bounds below, one client's state stays a few KiB.</summary>
    public const int MaxDocumentBytes = 16 * 1024;
    public const int MaxClientNameLength = 100;
    /// <summary>Every other string field, and each entry of a list field.</summary>
    public const int MaxFieldLength = 2048;
    public const int MaxContacts = 5;
    /// <summary>grant_types and response_types: only two values each are valid, so a long list is only padding.</summary>
    public const int MaxListEntries = 10;

    public static RegistrationError? Validate(ClientRegistrationRequest request)
    {
        if (request.RedirectUris is not { Count: > 0 } uris) return new("invalid_redirect_uri", "redirect_uris is required");
        if (uris.Count > RedirectUris.MaxPerClient) return new("invalid_redirect_uri", $"at most {RedirectUris.MaxPerClient} redirect_uris");
        foreach (var uri in uris)
            if (RedirectUris.Check(uri) is { } problem) return new("invalid_redirect_uri", problem);
        if (CheckBounds(request) is { } bound) return new("invalid_client_metadata", bound);

        var method = request.TokenEndpointAuthMethod ?? ClientAuthenticationMethods.ClientSecretBasic; // RFC 7591's default
        if (!AuthMethods.Contains(method)) return new("invalid_client_metadata", $"token_endpoint_auth_method must be one of {string.Join(", ", AuthMethods)}");
        if (request.GrantTypes is { } grants && grants.FirstOrDefault(g => !AllowedGrants.Contains(g)) is { } grant)
            return new("invalid_client_metadata", $"grant type '{grant}' is not supported; use authorization_code and refresh_token");
        if (request.ResponseTypes is { } responses && responses.Any(r => r != ResponseTypes.Code))
            return new("invalid_client_metadata", "only the 'code' response type is supported");
        if (request.ClientName is { Length: > MaxClientNameLength })
            return new("invalid_client_metadata", $"client_name must be at most {MaxClientNameLength} characters");
        if (request.Scope?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(s => !DovecoteScopes.Grantable.Contains(s)) is { } scope)
            return new("invalid_client_metadata", $"scope '{scope}' is not offered; use {string.Join(" ", DovecoteScopes.Grantable)}");
        return null;
    }

    /// <summary>Null when every field is within its bound, else the reason naming the field and the limit.</summary>
    private static string? CheckBounds(ClientRegistrationRequest request)
    {
        var strings = new (string Field, string? Value)[]
        {
            ("token_endpoint_auth_method", request.TokenEndpointAuthMethod), ("scope", request.Scope), ("client_id", request.ClientId),
            ("client_uri", request.ClientUri), ("logo_uri", request.LogoUri), ("tos_uri", request.TosUri), ("policy_uri", request.PolicyUri),
            ("jwks_uri", request.JwksUri), ("software_id", request.SoftwareId), ("software_version", request.SoftwareVersion),
        };
        foreach (var (field, value) in strings)
            if (value is { Length: > MaxFieldLength }) return $"{field} must be at most {MaxFieldLength} characters";
        var lists = new (string Field, List<string>? Values, int MaxCount)[]
        {
            ("grant_types", request.GrantTypes, MaxListEntries), ("response_types", request.ResponseTypes, MaxListEntries),
            ("contacts", request.Contacts, MaxContacts),
        };
        foreach (var (field, values, maxCount) in lists)
        {
            if (values is null) continue;
            if (values.Count > maxCount) return $"{field} must have at most {maxCount} entries";
            if (values.Any(v => v is null || v.Length > MaxFieldLength))
                return $"each entry of {field} must be a string of at most {MaxFieldLength} characters";
        }
        return null;
    }

    /// <summary>
    /// Whether one more never-used self-registered client fits beside <paramref name="clientId"/>'s shard of the directory
    /// (<see cref="RegistrationLimitOptions.MaxUnusedRegisteredClients"/>). Checked before creating, so concurrent registrations
    /// may overshoot by a few; the bound holds to within the number of Api pods' concurrent requests.
    /// </summary>
    public Task<bool> HasRoomForUnusedAsync(string clientId) => grains.Shard(clientId).HasRoomForUnusedAsync(limits.Value.MaxUnusedPerShard);

    /// <summary>
    /// Creates a client from validated metadata; null when a self-registered one does not fit under the unused-client cap.
    /// A secret is issued only to clients that authenticate with one.
    /// </summary>
    public async Task<ClientRegistrationResponse?> CreateAsync(ClientRegistrationRequest request, string kind, CancellationToken cancellationToken)
    {
        var method = request.TokenEndpointAuthMethod ?? ClientAuthenticationMethods.ClientSecretBasic;
        var confidential = method != ClientAuthenticationMethods.None;
        var clientId = ClientIds.New();
        if (OAuthRegistrationKinds.IsSelfRegistered(kind) && !await HasRoomForUnusedAsync(clientId)) return null;
        var secret = confidential ? Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)) : null;
        var name = string.IsNullOrWhiteSpace(request.ClientName) ? "Unnamed MCP client" : request.ClientName.Trim();

        var descriptor = Describe(clientId, name, request.RedirectUris!, confidential, kind);
        descriptor.ClientSecret = secret;
        await applications.CreateAsync(descriptor, cancellationToken);

        return new ClientRegistrationResponse(clientId, secret, time.GetUtcNow().ToUnixTimeSeconds(), confidential ? 0 : null, name,
            request.RedirectUris!, request.GrantTypes ?? [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken], [ResponseTypes.Code], method,
            string.Join(' ', DovecoteScopes.Grantable));
    }

    /// <summary>The application as OpenIddict checks it: code flow with PKCE, refresh, revocation, and Dovecote's scopes.</summary>
    public static OpenIddictApplicationDescriptor Describe(string clientId, string name, IEnumerable<string> redirectUris, bool confidential, string kind)
    {
        var uris = redirectUris.Select(u => new Uri(u)).ToList();
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            DisplayName = name,
            ClientType = confidential ? ClientTypes.Confidential : ClientTypes.Public,
            // "native" lets a loopback redirect match on any port.
            ApplicationType = uris.Any(RedirectUris.IsLoopback) ? ApplicationTypes.Native : ApplicationTypes.Web,
            ConsentType = ConsentTypes.Explicit,
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.Revocation,
                Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        foreach (var scope in DovecoteScopes.Grantable) descriptor.Permissions.Add(Permissions.Prefixes.Scope + scope);
        foreach (var uri in uris) descriptor.RedirectUris.Add(new Uri(RedirectUris.ForStorage(uri.AbsoluteUri)));
        descriptor.Properties[KindProperty] = JsonSerializer.SerializeToElement(kind);
        return descriptor;
    }
}
