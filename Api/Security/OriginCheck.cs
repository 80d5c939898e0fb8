using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Security;

/// <summary>Browsers send Origin; MCP requires a 403 for foreign ones (DNS rebinding, drive-by pages). Agents send none.</summary>
public sealed class OriginOptions
{
    /// <summary>Comma-separated origins allowed besides the service's own, e.g. "https://inspector.example".</summary>
    [ConfigurationKeyName("DOVECOTE_ALLOWED_ORIGINS")]
    public string? AllowedOrigins { get; set; }
}

public static class OriginCheck
{
    public static IApplicationBuilder UseOriginCheck(this IApplicationBuilder app)
    {
        var extra = app.ApplicationServices.GetRequiredService<IOptions<OriginOptions>>().Value.AllowedOrigins?
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        var allowed = new HashSet<string>(extra, StringComparer.OrdinalIgnoreCase);
        return app.Use(async (context, next) =>
        {
            var origin = context.Request.Headers.Origin.ToString();
            var own = $"{context.Request.Scheme}://{context.Request.Host}";
            if (origin.Length > 0 && !string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) && !allowed.Contains(origin))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsJsonAsync(new { error = "forbidden_origin", error_description = $"Origin '{origin}' is not allowed." });
                return;
            }
            await next(context);
        });
    }
}
