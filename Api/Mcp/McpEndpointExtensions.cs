using System.Text.Json;
using Dovecote.Api.OAuth;
using Dovecote.Api.RateLimiting;
using Dovecote.Api.Security;
using Microsoft.AspNetCore.Http.Features;

namespace Dovecote.Api.Mcp;

public static class McpEndpointExtensions
{
    /// <summary>Where the MCP endpoint is.</summary>
    public const string Path = "/mcp";

    /// <summary>Largest JSON-RPC body accepted at /mcp; a message is at most 32,000 characters.</summary>
    public const long MaxRequestBytes = 256 * 1024;

    /// <summary>Authenticated callers of /mcp: API keys and OAuth access tokens (<see cref="McpBearer"/>).</summary>
    public const string CallerPolicy = "mcp-caller";

    /// <summary>Tools that need more than <see cref="DovecoteClaims.NotifyScope"/>, and the scope each needs.</summary>
    private static readonly Dictionary<string, string> ToolScopes = new() { ["get_env"] = DovecoteClaims.EnvReadScope };

    public static WebApplicationBuilder AddDovecoteMcp(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TenantSendLimiter>();
        builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "dovecote", Version = "1.0.0" })
            .WithHttpTransport(o => o.Stateless = true) // any Api pod can answer any request
            .WithTools<NotificationTools>(ToolResults.Json)
            .WithTools<ChannelTools>(ToolResults.Json)
            .WithRequestFilters(filters => filters.AddCallToolFilter(next => async (context, cancellationToken) =>
            {
                try
                {
                    return await next(context, cancellationToken);
                }
                catch (Exception e) when (ToolResults.CallerMistake(e) is { } reason)
                {
                    // The caller's mistake, answered as a tool error it can read: not a server error to log.
                    return ToolResults.Error(reason);
                }
            }));
        return builder;
    }

    public static WebApplication MapDovecoteMcp(this WebApplication app)
    {
        app.MapMcp(Path)
            .RequireAuthorization(CallerPolicy)
            .AddEndpointFilter(async (context, next) =>
            {
                var http = context.HttpContext;
                if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                    limit.MaxRequestBodySize = MaxRequestBytes;
                if (await MissingScopeAsync(http) is { } scope)
                    return InsufficientScope(http, scope);
                return await next(context);
            });
        return app;
    }

    /// <summary>
    /// The scope a tools/call needs and the caller lacks, or null. Only callers without every scope pay for reading the
    /// body; the body is buffered so MCP reads it again.
    /// </summary>
    private static async Task<string?> MissingScopeAsync(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method) || ToolScopes.Values.All(s => DovecoteClaims.HasScope(http.User, s))) return null;
        http.Request.EnableBuffering();
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("method", out var method) && method.ValueEquals("tools/call")
                && root.TryGetProperty("params", out var parameters) && parameters.ValueKind == JsonValueKind.Object
                && parameters.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                && ToolScopes.TryGetValue(name.GetString()!, out var scope) && !DovecoteClaims.HasScope(http.User, scope))
                return scope;
            return null;
        }
        catch (JsonException)
        {
            return null; // MCP answers malformed JSON itself
        }
        finally
        {
            http.Request.Body.Position = 0;
        }
    }

    /// <summary>MCP step-up (RFC 6750 §3.1): 403 naming every scope to ask for, so the client can re-authorize with more.</summary>
    private static IResult InsufficientScope(HttpContext http, string scope)
    {
        var url = http.RequestServices.GetRequiredService<PublicUrl>();
        http.Response.Headers.WWWAuthenticate =
            $"Bearer error=\"insufficient_scope\", scope=\"{DovecoteClaims.NotifyScope} {scope}\", " +
            $"resource_metadata=\"{url.ResourceMetadata}\", error_description=\"this tool needs the {scope} scope\"";
        return Results.Json(new { error = "insufficient_scope", error_description = $"This tool needs the '{scope}' scope; authorize again with it." },
            statusCode: StatusCodes.Status403Forbidden);
    }
}
