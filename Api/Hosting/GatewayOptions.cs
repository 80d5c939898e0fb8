using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Hosting;

/// <summary>Cluster mode: the gateways of the Silo processes this Api is a client of. Unset, the Api co-hosts its own silo.</summary>
public sealed class GatewayOptions
{
    /// <summary>"ip:port,ip:port".</summary>
    [ConfigurationKeyName("DOVECOTE_GATEWAYS"), CustomValidation(typeof(GatewayOptions), nameof(Check))]
    public string? Gateways { get; set; }

    public bool Embedded => string.IsNullOrWhiteSpace(Gateways);

    public IPEndPoint[] Endpoints => [.. Entries(Gateways).Select(IPEndPoint.Parse)];

    public static ValidationResult? Check(string? gateways, ValidationContext context)
    {
        if (string.IsNullOrWhiteSpace(gateways)) return ValidationResult.Success;
        var entries = Entries(gateways);
        if (entries.Length == 0) return new ValidationResult($"{context.DisplayName} lists no ip:port gateway address");
        return entries.FirstOrDefault(e => !IPEndPoint.TryParse(e, out var endpoint) || endpoint.Port == 0) is { } bad
            ? new ValidationResult($"{context.DisplayName}: '{bad}' is not an ip:port gateway address")
            : ValidationResult.Success;
    }

    private static string[] Entries(string? gateways) =>
        gateways?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}
