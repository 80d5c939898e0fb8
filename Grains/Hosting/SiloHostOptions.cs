using System.ComponentModel.DataAnnotations;
using System.Net;
using Dovecote.Grains.Security;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Grains.Hosting;

/// <summary>
/// How a silo joins its cluster, where embedded mode keeps its data, and the key for secrets at rest. Bound from the
/// root of configuration; clustering needs it before the host is built (AddDovecoteOptionsNow).
/// </summary>
public sealed class SiloHostOptions
{
    [ConfigurationKeyName("DOVECOTE_DATA_DIR"), Required]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Base64 of 32 bytes; encrypts channel secrets at rest. Embedded mode creates one under the data folder.</summary>
    [ConfigurationKeyName("DOVECOTE_SECRETS_KEY"), Base64Key(32)]
    public string? SecretsKey { get; set; }

    [ConfigurationKeyName("DOVECOTE_SILO_PORT"), Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [ConfigurationKeyName("DOVECOTE_GATEWAY_PORT"), Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Letters, digits and dashes: the Azure provider builds table keys from "{ServiceId}_{grain id}", so ":" or "_" would blur them.</summary>
    [ConfigurationKeyName("DOVECOTE_SERVICE_ID"), Required, RegularExpression("^[A-Za-z0-9-]{1,64}$",
        ErrorMessage = "{0} must be 1 to 64 letters, digits and dashes")]
    public string ServiceId { get; set; } = "dovecote";

    [ConfigurationKeyName("DOVECOTE_CLUSTER_ID"), Required, RegularExpression("^[A-Za-z0-9-]{1,64}$",
        ErrorMessage = "{0} must be 1 to 64 letters, digits and dashes")]
    public string ClusterId { get; set; } = "dovecote";

    /// <summary>The address other silos and clients reach this silo at (the pod IP); it listens on all addresses.</summary>
    [ConfigurationKeyName("DOVECOTE_ADVERTISED_IP"), CustomValidation(typeof(SiloHostOptions), nameof(CheckAddress))]
    public string? AdvertisedIp { get; set; }

    /// <summary>The silo's name in the membership table and logs (the pod name); the machine name when unset.</summary>
    [ConfigurationKeyName("DOVECOTE_SILO_NAME"), StringLength(128)]
    public string? SiloName { get; set; }

    /// <summary>How long SIGTERM waits for the silo to hand its grains over and leave the cluster.</summary>
    [ConfigurationKeyName("DOVECOTE_SHUTDOWN_TIMEOUT"), Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(120);

    public IPAddress? AdvertisedAddress => AdvertisedIp is { Length: > 0 } ip ? IPAddress.Parse(ip) : null;

    public static ValidationResult? CheckAddress(string? value, ValidationContext context) =>
        string.IsNullOrEmpty(value) || IPAddress.TryParse(value, out _)
            ? ValidationResult.Success
            : new ValidationResult($"{context.DisplayName} must be an IP address (the pod IP), not '{value}'");
}
