using System.Net;
using System.Net.Sockets;
using Dovecote.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dovecote.Grains.Security;

/// <summary>
/// SSRF guard for tenant-supplied targets: refuses loopback, private, link-local (cloud metadata) and other
/// non-public addresses. Checked at connect time on the resolved address, so DNS rebinding cannot slip past.
/// </summary>
public sealed class OutboundAddressGuard(bool allowPrivateTargets)
{
    public bool AllowPrivateTargets => allowPrivateTargets;

    public bool IsAllowed(IPAddress address) => allowPrivateTargets || IsPublic(address);

    /// <summary>A literal-address or "localhost" URL that can be refused before any DNS lookup.</summary>
    public string? CheckUrl(string url)
    {
        if (allowPrivateTargets) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return "is not an absolute URL";
        if (uri.Scheme != Uri.UriSchemeHttps) return "must use https";
        if (uri.IsLoopback || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return "points at a loopback address";
        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var literal) && !IsPublic(literal) ? "points at a private or reserved address" : null;
    }

    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return false;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224          // this-network, private, loopback, multicast, reserved
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)                        // carrier-grade NAT
                || (b[0] == 169 && b[1] == 254)                                      // link-local, cloud metadata
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)                           // IETF protocol assignments
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19)));                     // benchmarking
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC                                             // unique local fc00::/7
                || (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B));  // NAT64 can reach private IPv4
        }
        return false;
    }

    /// <summary>Connects only to allowed addresses of the host; used as the delivery client's ConnectCallback.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
            throw new OutboundTargetRefusedException($"The target host '{host}' resolves only to private or reserved addresses.");

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>The SSRF guard refused a target: a configuration problem, never worth retrying.</summary>
public sealed class OutboundTargetRefusedException(string message) : IOException(message);

public static class OutboundAddressGuardExtensions
{
    /// <summary>One guard per process, from DOVECOTE_ALLOW_PRIVATE_TARGETS: channel delivery and client metadata fetches share it.</summary>
    public static IServiceCollection AddOutboundAddressGuard(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddDovecoteOptions<OutboundAddressOptions>(configuration);
        services.TryAddSingleton(sp => new OutboundAddressGuard(sp.GetRequiredService<IOptions<OutboundAddressOptions>>().Value.AllowPrivateTargets));
        return services;
    }
}
