namespace Dovecote.Grains.Security;

/// <summary>
/// The primary handler of an HTTP client whose destinations tenants or OAuth clients choose (webhooks, client metadata
/// documents): the <see cref="OutboundAddressGuard"/> checks every connection, redirects are not followed, no proxy is used.
/// </summary>
public static class GuardedHttp
{
    public static SocketsHttpHandler CreateHandler(OutboundAddressGuard guard) => new()
    {
        AllowAutoRedirect = false, // a redirect could lead past the guard's check of the original host
        ConnectCallback = guard.ConnectAsync,
        // Through HTTPS_PROXY/HTTP_PROXY/ALL_PROXY the guard would check the proxy's address and the proxy would reach any
        // target, private ones included; so a guarded client always connects to the destination itself.
        UseProxy = false,
    };
}
