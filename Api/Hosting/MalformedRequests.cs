using System.Text.Json;

namespace Dovecote.Api.Hosting;

/// <summary>
/// Requests that the frameworks below cannot read (a form with invalid characters, JSON-RPC params that do not match
/// the MCP schema, a body Kestrel refuses) throw from inside ASP.NET Core, the MCP SDK or OpenIddict. They are the
/// caller's mistake: answer 400 with the reason, not a 500 and an error in the log.
/// </summary>
public static class MalformedRequests
{
    public static IApplicationBuilder UseMalformedRequestAnswers(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (Reason(e) is { } reason && !context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
            if (context.Request.Path.StartsWithSegments("/mcp"))
                await context.Response.WriteAsJsonAsync(new
                {
                    jsonrpc = "2.0",
                    id = (object?)null,
                    error = new { code = -32602, message = $"Invalid params: {reason}" },
                });
            else
                await context.Response.WriteAsJsonAsync(new { error = "invalid_request", error_description = reason });
        }
    });

    /// <summary>What to tell the caller, or null for a real server fault. The messages name types and positions, never values.</summary>
    private static string? Reason(Exception exception) => exception switch
    {
        BadHttpRequestException e => e.Message,
        InvalidDataException e => e.Message, // form parsing: "The form value contains invalid characters."
        JsonException e => e.Message,
        _ => null,
    };
}
