using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Hosting;

/// <summary>Whose X-Forwarded-Proto/-For to believe: loopback by default. Bound from the root of configuration.</summary>
public sealed class TrustedProxyOptions
{
    /// <summary>Addresses and networks of TLS-terminating proxies ("10.0.0.0/8,192.168.1.5"), or "*" for any.</summary>
    [ConfigurationKeyName("DOVECOTE_TRUSTED_PROXIES"), CustomValidation(typeof(TrustedProxyOptions), nameof(Check))]
    public string? TrustedProxies { get; set; }

    public static ValidationResult? Check(string? trusted, ValidationContext context) =>
        Entries(trusted).FirstOrDefault(e => e != "*" && !IsNetwork(e) && !IPAddress.TryParse(e, out _)) is { } bad
            ? new ValidationResult($"{context.DisplayName}: '{bad}' is not an IP address or CIDR network")
            : ValidationResult.Success;

    public void ApplyTo(ForwardedHeadersOptions options)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        var entries = Entries(TrustedProxies);
        if (entries.Length == 0) return;
        options.KnownIPNetworks.Clear();
        options.KnownProxies.Clear();
        foreach (var entry in entries)
        {
            if (entry == "*")
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse("0.0.0.0/0"));
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse("::/0"));
            }
            else if (IsNetwork(entry)) options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(entry));
            else options.KnownProxies.Add(IPAddress.Parse(entry));
        }
    }

    private static bool IsNetwork(string entry) => entry.Contains('/') && System.Net.IPNetwork.TryParse(entry, out _);

    private static string[] Entries(string? list) => list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}
