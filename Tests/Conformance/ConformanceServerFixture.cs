using Dovecote.Api;
using Microsoft.AspNetCore.Builder;

namespace Dovecote.Tests.Conformance;

/// <summary>
/// The real Api (embedded silo included) on Kestrel at a loopback port, with the unauthenticated MCP conformance
/// endpoint mapped beside the production /mcp through the Api's seam. Like ApiFixture, plus that endpoint.
/// </summary>
public sealed class ConformanceServerFixture : IAsyncLifetime
{
    public const string ApiKey = "conformance-key-2f9a61c3-8e5d0b7a1c4f3e96";
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-conformance-").FullName;
    private WebApplication? _app;

    /// <summary>http://127.0.0.1:PORT: a loopback URL, as the dns-rebinding-protection scenario requires.</summary>
    public string BaseUrl { get; private set; } = "";
    public string ConformanceUrl => BaseUrl + ConformanceEndpoint.Route;

    public async ValueTask InitializeAsync()
    {
        _app = DovecoteApi.Create(
            LoopbackApiArguments.For(_dataDirectory, $"--DOVECOTE_API_KEYS={ApiKey}"),
            app => app.MapConformanceEndpoint());
        await _app.StartAsync();
        BaseUrl = _app.Urls.First();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
