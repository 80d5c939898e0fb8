using Dovecote.Api.OAuth.Registration;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Dovecote.Api.OAuth.Discovery;

/// <summary>RFC 9728 protected resource metadata for /mcp, and the additions MCP clients need in RFC 8414 metadata.</summary>
public static class DiscoveryEndpoints
{
    /// <summary>Served at the root and path-aware (clients try "/.well-known/oauth-protected-resource/mcp" first).</summary>
    public static WebApplication MapProtectedResourceMetadata(this WebApplication app)
    {
        IResult Metadata(PublicUrl url, HttpContext http)
        {
            http.Response.Headers.CacheControl = "public, max-age=300";
            return Results.Json(new
            {
                resource = url.McpResource,
                authorization_servers = new[] { url.Issuer },
                scopes_supported = DovecoteScopes.Resource, // offline_access is an authorization-server matter
                bearer_methods_supported = new[] { "header" },
                resource_name = "Dovecote",
                resource_documentation = $"{url.Origin}/",
            });
        }
        app.MapGet("/.well-known/oauth-protected-resource", Metadata);
        app.MapGet("/.well-known/oauth-protected-resource/mcp", Metadata);
        return app;
    }

    /// <summary>
    /// Adds registration (when open), client ID metadata documents (when they can be accepted) and the "none" auth method (Claude.ai uses CIMD only
    /// when both are advertised), and drops "openid": this server issues no identity tokens.
    /// </summary>
    public sealed class AuthorizationServerMetadata(PublicUrl url, IOptions<RegistrationOptions> registration)
        : IOpenIddictServerHandler<HandleConfigurationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
                .UseSingletonHandler<AuthorizationServerMetadata>()
                .SetOrder(OpenIddictServerHandlers.Discovery.AttachAdditionalMetadata.Descriptor.Order + 1000)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(HandleConfigurationRequestContext context)
        {
            if (!registration.Value.Closed) context.Metadata["registration_endpoint"] = $"{url.Origin}/register";
            // Closed registration accepts documents only from allowlisted hosts; with none, advertising them would invite a refusal.
            if (registration.Value.AcceptsDocuments) context.Metadata["client_id_metadata_document_supported"] = true;
            // Clients authenticate with a secret or not at all; no client registers keys for private_key_jwt.
            foreach (var methods in new[] { context.TokenEndpointAuthenticationMethods, context.RevocationEndpointAuthenticationMethods })
            {
                methods.Add(ClientAuthenticationMethods.None);
                methods.Remove(ClientAuthenticationMethods.PrivateKeyJwt);
            }
            context.Scopes.Remove(Scopes.OpenId);
            context.Metadata["service_documentation"] = $"{url.Origin}/";
            return default;
        }
    }
}
