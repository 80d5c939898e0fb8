using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dovecote.Grains.Interfaces.OAuth;
using OpenIddict.Abstractions;
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
public sealed class ClientRegistration(IOpenIddictApplicationManager applications, TimeProvider time)
{
    private static readonly string[] AuthMethods = [ClientAuthenticationMethods.None, ClientAuthenticationMethods.ClientSecretPost, ClientAuthenticationMethods.ClientSecretBasic];
    private static readonly string[] AllowedGrants = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken];

    /// <summary>Property on the application naming how it was created, one of <see cref="OAuthRegistrationKinds"/>; pruning spares bootstrapped clients.</summary>
    public const string KindProperty = "dovecote_registration";

    public static RegistrationError? Validate(ClientRegistrationRequest request)
    {
        if (request.RedirectUris is not { Count: > 0 } uris) return new("invalid_redirect_uri", "redirect_uris is required");
        if (uris.Count > RedirectUris.MaxPerClient) return new("invalid_redirect_uri", $"at most {RedirectUris.MaxPerClient} redirect_uris");
        foreach (var uri in uris)
            if (RedirectUris.Check(uri) is { } problem) return new("invalid_redirect_uri", problem);

        var method = request.TokenEndpointAuthMethod ?? ClientAuthenticationMethods.ClientSecretBasic; // RFC 7591's default
        if (!AuthMethods.Contains(method)) return new("invalid_client_metadata", $"token_endpoint_auth_method must be one of {string.Join(", ", AuthMethods)}");
        if (request.GrantTypes is { } grants && grants.FirstOrDefault(g => !AllowedGrants.Contains(g)) is { } grant)
            return new("invalid_client_metadata", $"grant type '{grant}' is not supported; use authorization_code and refresh_token");
        if (request.ResponseTypes is { } responses && responses.Any(r => r != ResponseTypes.Code))
            return new("invalid_client_metadata", "only the 'code' response type is supported");
        if (request.ClientName is { Length: > 100 }) return new("invalid_client_metadata", "client_name must be at most 100 characters");
        if (request.Scope?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(s => !DovecoteScopes.Grantable.Contains(s)) is { } scope)
            return new("invalid_client_metadata", $"scope '{scope}' is not offered; use {string.Join(" ", DovecoteScopes.Grantable)}");
        return null;
    }

    /// <summary>Creates a client from validated metadata. A secret is issued only to clients that authenticate with one.</summary>
    public async Task<ClientRegistrationResponse> CreateAsync(ClientRegistrationRequest request, string kind, CancellationToken cancellationToken)
    {
        var method = request.TokenEndpointAuthMethod ?? ClientAuthenticationMethods.ClientSecretBasic;
        var confidential = method != ClientAuthenticationMethods.None;
        var clientId = "dvc-" + RandomNumberGenerator.GetHexString(24, lowercase: true);
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
