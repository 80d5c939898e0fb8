using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.OAuth.Registration;

/// <summary>Open or closed client registration: ENABLE_CLIENT_BOOTSTRAP=1 closes /register and opens the admin route.</summary>
public sealed class RegistrationOptions
{
    /// <summary>A typo must not leave registration open by accident, so anything but 1/true/0/false stops start-up.</summary>
    [ConfigurationKeyName("ENABLE_CLIENT_BOOTSTRAP")]
    [RegularExpression("^(?i:1|0|true|false)$", ErrorMessage = "{0} must be 1 or true (closed registration), or 0 or false")]
    public string? EnableClientBootstrap { get; set; }

    /// <summary>
    /// In closed mode, the hosts whose Client ID Metadata Documents are still accepted (comma-separated, e.g. "claude.ai"):
    /// a metadata document is a registration, so closing /register must close it too, except for hosts the operator trusts.
    /// </summary>
    [ConfigurationKeyName("DOVECOTE_CIMD_ALLOWED_HOSTS")]
    [RegularExpression(@"^[A-Za-z0-9.\-\[\]:, ]*$",
        ErrorMessage = "{0} must be a comma-separated list of host names (no scheme, path or port), e.g. claude.ai")]
    public string? CimdAllowedHosts { get; set; }

    public bool Closed => EnableClientBootstrap is "1" || string.Equals(EnableClientBootstrap, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The allowlist, lower-cased; empty when unset.</summary>
    public IReadOnlySet<string> AllowedDocumentHosts =>
        (CimdAllowedHosts ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(h => h.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether any metadata document can be accepted: always when open; when closed, only with a non-empty allowlist.</summary>
    public bool AcceptsDocuments => !Closed || AllowedDocumentHosts.Count > 0;

    /// <summary>Whether a metadata document at <paramref name="url"/> may be used: exact host match, case-insensitive, in closed mode.</summary>
    public bool AcceptsDocumentFrom(Uri url) => !Closed || AllowedDocumentHosts.Contains(url.IdnHost.ToLowerInvariant());
}
