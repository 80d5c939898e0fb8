namespace Dovecote.Api.Security;

public static class OriginCheck
{
    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>
    /// A foreign Origin gets 403 (MCP requires it); a Host that is not ours gets 400, so a rebound DNS name cannot reach
    /// a local instance. Health checks are exempt: probes address pods by IP.
    /// </summary>
    public static IApplicationBuilder UseOriginAndHostChecks(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<OriginOptions>>().Value;
        var origins = new HashSet<string>(List(options.AllowedOrigins), StringComparer.OrdinalIgnoreCase);
        var hosts = new HashSet<string>(List(options.AllowedHosts).Concat(LoopbackHosts), StringComparer.OrdinalIgnoreCase);
        if (Uri.TryCreate(options.PublicUrl, UriKind.Absolute, out var publicUrl))
        {
            hosts.Add(publicUrl.Host);
            origins.Add(publicUrl.GetLeftPart(UriPartial.Authority));
        }
        var anyHost = hosts.Contains("*");

        return app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/health"))
            {
                await next(context);
                return;
            }
            if (!anyHost && !hosts.Contains(context.Request.Host.Host))
            {
                await RefuseAsync(
                    context,
                    StatusCodes.Status400BadRequest,
                    "invalid_host",
                    "This Host is not served here; set DOVECOTE_PUBLIC_URL or DOVECOTE_ALLOWED_HOSTS.");
                return;
            }
            var origin = context.Request.Headers.Origin.ToString();
            var own = $"{context.Request.Scheme}://{context.Request.Host}";
            if (origin.Length > 0 && !string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) && !origins.Contains(origin)
                && !IsConsentFormPost(context, origin))
            {
                await RefuseAsync(context, StatusCodes.Status403Forbidden, "forbidden_origin", $"Origin '{origin}' is not allowed.");
                return;
            }
            await next(context);
        });
    }

    /// <summary>
    /// Browsers send "Origin: null" when they post a form from a page served with Referrer-Policy: no-referrer (the consent
    /// and sign-in pages). Those forms carry their own CSRF proof (HMAC'd token plus SameSite cookie), so "null" is accepted
    /// there only. Add a path here only for forms that check ConsentCsrf.
    /// </summary>
    private static bool IsConsentFormPost(HttpContext context, string origin) =>
        origin == "null" && (CsrfCheckedFormPaths.Any(path => context.Request.Path.Equals(path, StringComparison.OrdinalIgnoreCase))
            || context.Request.Path.StartsWithSegments(CsrfCheckedFormPrefix, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every console post is CSRF-checked by the console's filters before its handler runs.</summary>
    private const string CsrfCheckedFormPrefix = "/console";

    private static readonly string[] CsrfCheckedFormPaths = ["/authorize", "/signin", "/signout", "/invitations/accept"];

    private static string[] List(string? commaSeparated) =>
        commaSeparated?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    private static Task RefuseAsync(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error, error_description = description });
    }
}
