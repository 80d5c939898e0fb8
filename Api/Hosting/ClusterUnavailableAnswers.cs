namespace Dovecote.Api.Hosting;

/// <summary>
/// A grain call that still fails after its retries (<see cref="ClusterCalls"/>) means the cluster is away for now, not that
/// the server is broken: answer 503 with Retry-After and the reason, never a 500.
/// </summary>
public static class ClusterUnavailableAnswers
{
    public static IApplicationBuilder UseClusterUnavailableAnswers(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (ClusterCalls.IsTransient(e) && !context.Response.HasStarted)
        {
            context.RequestServices.GetRequiredService<ILogger<ClusterCalls.Log>>()
                .LogWarning("{Path}: the cluster did not answer ({Error}); answered 503", context.Request.Path, e.GetType().Name);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "2";
            if (context.Request.Path.StartsWithSegments("/mcp"))
                await context.Response.WriteAsJsonAsync(new
                {
                    jsonrpc = "2.0",
                    id = (object?)null,
                    error = new { code = -32000, message = ClusterCalls.Unavailable },
                });
            else
                await context.Response.WriteAsJsonAsync(new { error = "temporarily_unavailable", error_description = ClusterCalls.Unavailable });
        }
    });
}
