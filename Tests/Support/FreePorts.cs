using System.Net;
using System.Net.Sockets;

namespace Dovecote.Tests.Support;

public static class FreePorts
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A loopback port nothing listens on right now (the OS picks it), never one already handed out in this test run: the
    /// OS readily offers a port again once its probe closes, and two tests starting servers on it would collide.
    /// </summary>
    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
                if (HandedOut.Add(port)) return port;
        }
    }
}
