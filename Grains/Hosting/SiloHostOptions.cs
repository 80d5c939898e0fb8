using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Grains.Hosting;

/// <summary>How a silo joins its cluster and where embedded mode keeps its data. Bound from the root of configuration.</summary>
public sealed class SiloHostOptions
{
    [ConfigurationKeyName("DOVECOTE_DATA_DIR"), Required]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Base64 of 32 bytes; encrypts channel secrets at rest. Embedded mode creates one under the data folder.</summary>
    [ConfigurationKeyName("DOVECOTE_SECRETS_KEY")]
    public string? SecretsKey { get; set; }

    [ConfigurationKeyName("DOVECOTE_SILO_PORT"), Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [ConfigurationKeyName("DOVECOTE_GATEWAY_PORT"), Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    [ConfigurationKeyName("DOVECOTE_SERVICE_ID"), Required]
    public string ServiceId { get; set; } = "dovecote";

    [ConfigurationKeyName("DOVECOTE_CLUSTER_ID"), Required]
    public string ClusterId { get; set; } = "dovecote";

    /// <summary>Binds and validates eagerly: clustering needs these before the host is built.</summary>
    public static SiloHostOptions From(IConfiguration configuration)
    {
        var options = new SiloHostOptions();
        configuration.Bind(options);
        var problems = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), problems, validateAllProperties: true))
            throw new OptionsValidationException(nameof(SiloHostOptions), typeof(SiloHostOptions), problems.Select(p => $"{Describe(p)}: {p.ErrorMessage}"));
        if (options.SecretsKey is { } key && !IsKey(key))
            throw new OptionsValidationException(nameof(SiloHostOptions), typeof(SiloHostOptions), ["DOVECOTE_SECRETS_KEY must be the base64 of 32 bytes"]);
        return options;
    }

    private static string Describe(ValidationResult problem) =>
        string.Join(", ", problem.MemberNames.Select(m => typeof(SiloHostOptions).GetProperty(m)?.GetCustomAttributes(typeof(ConfigurationKeyNameAttribute), false)
            .OfType<ConfigurationKeyNameAttribute>().FirstOrDefault()?.Name ?? m));

    private static bool IsKey(string base64)
    {
        var buffer = new byte[64];
        return Convert.TryFromBase64String(base64, buffer, out var length) && length == 32;
    }
}
