using Microsoft.Extensions.Configuration;

namespace Dovecote.Grains.Security;

/// <summary>What the SSRF guard lets through. Bound from the root of configuration.</summary>
public sealed class OutboundAddressOptions
{
    /// <summary>Lets tenants target loopback and private addresses; off by default (SSRF guard).</summary>
    [ConfigurationKeyName("DOVECOTE_ALLOW_PRIVATE_TARGETS")]
    public bool AllowPrivateTargets { get; set; }
}
