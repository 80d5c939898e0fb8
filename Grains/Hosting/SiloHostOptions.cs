using System.ComponentModel.DataAnnotations;
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

    [ConfigurationKeyName("DOVECOTE_SERVICE_ID"), Required]
    public string ServiceId { get; set; } = "dovecote";

    [ConfigurationKeyName("DOVECOTE_CLUSTER_ID"), Required]
    public string ClusterId { get; set; } = "dovecote";
}
