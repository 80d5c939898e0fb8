using System.ComponentModel.DataAnnotations;
using Dovecote.Api.Security;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Dovecote.Api.OAuth;

/// <summary>
/// The service's external base URL: DOVECOTE_PUBLIC_URL, or else the first address Kestrel listens on. It is the OAuth
/// issuer, written without a trailing slash everywhere so strict clients find identical strings in every document.
/// </summary>
public sealed class PublicUrl(IOptions<OriginOptions> options, IServer server)
{
    private string? _origin;

    /// <summary>"https://notify.example.com": scheme, host and port, nothing else.</summary>
    public string Origin => _origin ??= Resolve();

    public string Issuer => Origin;
    public string McpResource => $"{Origin}/mcp";
    public string ResourceMetadata => $"{Origin}/.well-known/oauth-protected-resource/mcp";

    /// <summary>The issuer as OpenIddict needs it: a Uri that keeps the string exactly, with no slash added.</summary>
    public Uri IssuerUri => new(Issuer, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

    public bool IsHttps => Origin.StartsWith("https://", StringComparison.Ordinal);

    /// <summary>Checks DOVECOTE_PUBLIC_URL at start-up (<see cref="OriginOptions.PublicUrl"/>): an http(s) origin with no path, query or fragment.</summary>
    public static ValidationResult? Check(string? configured, ValidationContext context)
    {
        if (string.IsNullOrWhiteSpace(configured)) return ValidationResult.Success;
        if (!Uri.TryCreate(configured.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            return new ValidationResult($"{context.DisplayName} must be an absolute http(s) URL, e.g. https://notify.example.com");
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            return new ValidationResult($"{context.DisplayName} must be an origin with no path, query or fragment (Dovecote serves from the root)");
        return ValidationResult.Success;
    }

    private string Resolve()
    {
        if (!string.IsNullOrWhiteSpace(options.Value.PublicUrl))
            return new Uri(options.Value.PublicUrl.Trim()).GetLeftPart(UriPartial.Authority);

        // Read after Kestrel has bound, so an ephemeral port is already known.
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("DOVECOTE_PUBLIC_URL is not set and the server has no listening address yet");
        var uri = new UriBuilder(address.Replace("://+", "://localhost").Replace("://*", "://localhost"));
        if (uri.Host is "0.0.0.0" or "[::]" or "::") uri.Host = "localhost";
        if (uri.Port == 0) throw new InvalidOperationException("DOVECOTE_PUBLIC_URL is not set and the listening port is not known yet");
        return uri.Uri.GetLeftPart(UriPartial.Authority);
    }
}
