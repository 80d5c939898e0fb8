using System.Text.Json;
using System.Text.Json.Serialization;
using ModelContextProtocol;
using Microsoft.AspNetCore.Http.Features;

namespace Dovecote.Api.Mcp;

public static class McpEndpointExtensions
{
    /// <summary>Largest JSON-RPC body accepted at /mcp; a message is at most 32,000 characters.</summary>
    public const long MaxRequestBytes = 256 * 1024;

    public static WebApplicationBuilder AddDovecoteMcp(this WebApplicationBuilder builder)
    {
        // The output schemas mark nullable fields required, so nulls must be written, not skipped (clients validate).
        var results = new JsonSerializerOptions(McpJsonUtilities.DefaultOptions) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };
        builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "dovecote", Version = "1.0.0" })
            .WithHttpTransport(o => o.Stateless = true) // any Api pod can answer any request
            .WithTools<NotificationTools>(results)
            .WithTools<ChannelTools>(results);
        return builder;
    }

    public static WebApplication MapDovecoteMcp(this WebApplication app)
    {
        app.MapMcp("/mcp")
            .RequireAuthorization()
            .AddEndpointFilter(async (context, next) =>
            {
                if (context.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                    limit.MaxRequestBodySize = MaxRequestBytes;
                return await next(context);
            });
        return app;
    }
}
