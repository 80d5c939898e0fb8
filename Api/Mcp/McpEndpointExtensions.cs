using Microsoft.AspNetCore.Http.Features;

namespace Dovecote.Api.Mcp;

public static class McpEndpointExtensions
{
    /// <summary>Largest JSON-RPC body accepted at /mcp; a message is at most 32,000 characters.</summary>
    public const long MaxRequestBytes = 256 * 1024;

    /// <summary>Authenticated callers of /mcp: API keys now, OAuth access tokens beside them later.</summary>
    public const string CallerPolicy = "mcp-caller";

    public static WebApplicationBuilder AddDovecoteMcp(this WebApplicationBuilder builder)
    {
        builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "dovecote", Version = "1.0.0" })
            .WithHttpTransport(o => o.Stateless = true) // any Api pod can answer any request
            .WithTools<NotificationTools>(ToolResults.Json)
            .WithTools<ChannelTools>(ToolResults.Json);
        return builder;
    }

    public static WebApplication MapDovecoteMcp(this WebApplication app)
    {
        app.MapMcp("/mcp")
            .RequireAuthorization(CallerPolicy)
            .AddEndpointFilter(async (context, next) =>
            {
                if (context.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                    limit.MaxRequestBodySize = MaxRequestBytes;
                return await next(context);
            });
        return app;
    }
}
