using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Security;

/// <summary>Which browser origins and Host names the service answers (DNS-rebinding and drive-by-page defences).</summary>
public sealed class OriginOptions
{
    /// <summary>Comma-separated origins allowed besides the service's own, e.g. "https://inspector.example".</summary>
    [ConfigurationKeyName("DOVECOTE_ALLOWED_ORIGINS")]
    public string? AllowedOrigins { get; set; }

    /// <summary>Comma-separated Host names accepted besides loopback and DOVECOTE_PUBLIC_URL's host; "*" accepts any.</summary>
    [ConfigurationKeyName("DOVECOTE_ALLOWED_HOSTS")]
    public string? AllowedHosts { get; set; }

    /// <summary>The service's own origin, also the OAuth issuer (<see cref="OAuth.PublicUrl"/>).</summary>
    [ConfigurationKeyName("DOVECOTE_PUBLIC_URL"), CustomValidation(typeof(OAuth.PublicUrl), nameof(OAuth.PublicUrl.Check))]
    public string? PublicUrl { get; set; }
}
