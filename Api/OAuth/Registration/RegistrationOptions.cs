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

    public bool Closed => EnableClientBootstrap is "1" || string.Equals(EnableClientBootstrap, "true", StringComparison.OrdinalIgnoreCase);
}
