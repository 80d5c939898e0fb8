using System.Text.Json;
using Dovecote.Api.Admin;
using Dovecote.Api.Audit;
using Dovecote.Api.RateLimiting;
using Dovecote.Api.Security;
using Dovecote.Grains.Interfaces.OAuth;

namespace Dovecote.Api.OAuth.Registration;

public static class RegistrationEndpoints
{
    /// <summary>Registrations per client address, cluster-wide (client metadata documents count here too).</summary>
    public const string RateLimitBucket = "register-ip";

    public static WebApplication MapClientRegistration(this WebApplication app)
    {
        // RFC 7591. Open by default: claude.ai registers again on every connect.
        app.MapPost("/register", async (HttpContext http, ClientRegistration registration, ClusterRateLimiter limiter,
            IOptions<RegistrationOptions> options, IOptions<OAuthServerOptions> oauth, AuditTrail audit) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            if (options.Value.Closed)
                return Results.Json(
                    new
                    {
                        error = "access_denied",
                        error_description = "Registration is closed on this server; the operator provisions clients (POST /admin/bootstrap-client).",
                    },
                    statusCode: StatusCodes.Status403Forbidden);
            var decision = await limiter.HitAsync(RateLimitBucket, ClusterRateLimiter.ClientKey(http), oauth.Value.RegistrationPerAddress);
            if (!decision.Allowed) return ClusterRateLimiter.TooMany(decision);
            return await RegisterAsync(http, registration, audit, OAuthRegistrationKinds.Dcr, actor: "anonymous");
        });

        // Closed mode's only way in; needs the operator token like every /admin route.
        app.MapAdminGroup()
            .MapPost("/bootstrap-client", async (HttpContext http, ClientRegistration registration, IOptions<RegistrationOptions> options, AuditTrail audit) =>
                options.Value.Closed
                    ? await RegisterAsync(http, registration, audit, OAuthRegistrationKinds.Bootstrap, actor: "admin")
                    : Results.Json(
                        new
                        {
                            error = "bootstrap_disabled",
                            error_description = "Set ENABLE_CLIENT_BOOTSTRAP=1 to provision clients here (this closes /register).",
                        },
                        statusCode: StatusCodes.Status403Forbidden));
        return app;
    }

    private static async Task<IResult> RegisterAsync(HttpContext http, ClientRegistration registration, AuditTrail audit, string kind, string actor)
    {
        var tooLarge = new RegistrationError("invalid_client_metadata", $"the request body must be at most {ClientRegistration.MaxDocumentBytes / 1024} KiB");
        if (http.Request.ContentLength > ClientRegistration.MaxDocumentBytes) return tooLarge.ToResult();
        ClientRegistrationRequest? request;
        try
        {
            if (!http.Request.HasJsonContentType()) throw new InvalidOperationException("not JSON");
            // Read at most one byte past the bound, whatever Content-Length said (or did not say, when chunked).
            var buffer = new byte[ClientRegistration.MaxDocumentBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), http.RequestAborted)) > 0) length += read;
            if (length > ClientRegistration.MaxDocumentBytes) return tooLarge.ToResult();
            request = JsonSerializer.Deserialize<ClientRegistrationRequest>(buffer.AsSpan(0, length), JsonSerializerOptions.Web);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or BadHttpRequestException or IOException)
        {
            return new RegistrationError(
                "invalid_client_metadata",
                "the body must be a JSON object of client metadata (RFC 7591), sent as application/json").ToResult();
        }
        if (request is null) return new RegistrationError("invalid_client_metadata", "the body must be a JSON object").ToResult();
        if (ClientRegistration.Validate(request) is { } error) return error.ToResult();

        if (await registration.CreateAsync(request, kind, http.RequestAborted) is not { } response)
        {
            // 503, not 429: the cap is the server's, whoever calls; it clears as the hourly pruner deletes day-old unused clients.
            http.Response.Headers.RetryAfter = "3600";
            return Results.Json(new
            {
                error = "temporarily_unavailable",
                error_description = "Too many registered clients are waiting for their first token (OAuth__MaxUnusedRegisteredClients); "
                    + "unused ones are deleted after a day, try again later.",
            }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        await audit.RecordAsync(AuditTrail.SystemTenant, actor, "oauth.client.register", response.ClientId,
            $"{kind}, {response.TokenEndpointAuthMethod}, \"{response.ClientName}\"", http);
        return Results.Json(response, statusCode: StatusCodes.Status201Created);
    }
}
