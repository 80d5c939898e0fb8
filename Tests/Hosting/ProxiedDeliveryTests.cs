using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dovecote.Grains.Security;

namespace Dovecote.Tests.Hosting;

/// <summary>
/// SSRF behind an egress proxy: with HTTPS_PROXY set, a guarded client that used the proxy would have the guard check the
/// proxy's address while the proxy reached any target. The Api runs as its own process because HttpClient reads the proxy
/// variables once per process.
/// </summary>
public sealed class ProxiedDeliveryTests : IAsyncLifetime
{
    private const string ApiKey = "proxied-test-key-6a0c2e8f4b1d7395e3c1";
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-proxied-").FullName;
    private readonly int _httpPort = FreePorts.Next();
    private readonly TcpListener _proxy = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _proxyConnections;
    private Task _accepting = Task.CompletedTask;

    public ValueTask InitializeAsync()
    {
        _proxy.Start();
        _accepting = AcceptAsync();
        return ValueTask.CompletedTask;
    }

    /// <summary>A "proxy" that only counts who connects to it.</summary>
    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                using var connection = await _proxy.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _proxyConnections);
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    [Fact]
    public async Task With_a_proxy_configured_a_webhook_to_a_private_host_is_refused_by_the_guard_and_the_proxy_sees_nothing()
    {
        // A name that passes the URL check (not a literal, not "localhost") and resolves to private addresses only, so only
        // the connect-time check can refuse it, and it names the host it checked: the target, or the proxy (127.0.0.1).
        var host = await PrivateHostNameAsync();
        await using var api = await StartProxiedApiAsync(host);

        var delivery = (await SendAsync("hello, intranet")).GetProperty("deliveries")[0];

        Assert.Equal("failed", delivery.GetProperty("status").GetString());
        // The guard named the webhook's host: it saw the target, not the proxy (127.0.0.1), which it would refuse as well.
        Assert.Contains($"'{host}' resolves only to private or reserved addresses", delivery.GetProperty("error").GetString());
        Assert.Equal(0, Volatile.Read(ref _proxyConnections));
    }

    [Fact]
    public async Task With_a_proxy_configured_a_client_metadata_document_on_a_private_host_is_refused_by_the_guard_and_the_proxy_sees_nothing()
    {
        var host = await PrivateHostNameAsync();
        await using var api = await StartProxiedApiAsync(host);
        var clientId = $"https://{host}:{FreePorts.Next()}/oauth/client.json";
        var authorize = $"http://127.0.0.1:{_httpPort}/authorize?response_type=code&client_id={Uri.EscapeDataString(clientId)}"
            + "&redirect_uri=" + Uri.EscapeDataString("http://127.0.0.1:9/callback") + "&scope=notify&state=st"
            + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var response = await http.GetAsync(authorize, TestContext.Current.CancellationToken);

        Assert.False(response.IsSuccessStatusCode, $"/authorize accepted a client whose document could not be fetched: {(int)response.StatusCode}");
        // The fetch failure is logged with the guard's words; they name the document's host, not the proxy (127.0.0.1).
        await WaitForAsync(() => api.Output.Contains("could not be used"), api);
        Assert.Contains($"'{host}' resolves only to private or reserved addresses", api.Output);
        Assert.Equal(0, Volatile.Read(ref _proxyConnections));
    }

    /// <summary>The Api with every proxy variable pointing at the counting proxy, and a webhook channel to <paramref name="host"/>.</summary>
    private async Task<DovecoteProcess> StartProxiedApiAsync(string host)
    {
        var proxy = $"http://127.0.0.1:{((IPEndPoint)_proxy.LocalEndpoint).Port}";
        var secret = "whsec_" + Convert.ToBase64String(new byte[32]);
        var api = DovecoteProcess.Start("Api", new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{_httpPort}",
            ["DOVECOTE_DATA_DIR"] = _dataDirectory,
            ["DOVECOTE_SILO_PORT"] = FreePorts.Next().ToString(),
            ["DOVECOTE_GATEWAY_PORT"] = FreePorts.Next().ToString(),
            ["DOVECOTE_API_KEYS"] = ApiKey,
            ["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "false",
            ["HTTPS_PROXY"] = proxy,
            ["HTTP_PROXY"] = proxy,
            ["ALL_PROXY"] = proxy,
            ["NO_PROXY"] = "",
            ["WEBHOOK_INSTANCES"] = JsonSerializer.Serialize(new[] { new { id = "inside", url = $"https://{host}:{FreePorts.Next()}/hook", secret } }),
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Dovecote.Api.OAuth.Registration"] = "Information",
        });
        try
        {
            await WaitUntilReadyAsync(api);
            return api;
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, DovecoteProcess api)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out; the Api's output: {api.Output}");
            await Task.Delay(100, TestContext.Current.CancellationToken); // polling a child process's output
        }
    }

    /// <summary>The machine's name, or a name from /etc/hosts, that resolves to private addresses only; skips when there is none.</summary>
    private static async Task<string> PrivateHostNameAsync()
    {
        var names = File.Exists("/etc/hosts")
            ? File.ReadLines("/etc/hosts").Select(l => l.Split('#')[0].Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries)).SelectMany(f => f.Skip(1))
            : [];
        foreach (var name in names.Prepend(Dns.GetHostName()).Distinct())
        {
            if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) continue;
            var addresses = await Dns.GetHostAddressesAsync(name, TestContext.Current.CancellationToken);
            if (addresses.Length > 0 && !addresses.Any(OutboundAddressGuard.IsPublic)) return name;
        }
        Assert.Skip("no host name here resolves to private addresses only");
        return "";
    }

    private Task WaitUntilReadyAsync(DovecoteProcess api) => api.WaitUntilReadyAsync($"http://127.0.0.1:{_httpPort}/health/ready");

    private Task<JsonElement> SendAsync(string message) =>
        DovecoteProcess.SendNotificationAsync(_httpPort, ApiKey, new { channel = "webhook-inside", message, wait_seconds = 20 });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _proxy.Stop();
        await _accepting;
        _stop.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
