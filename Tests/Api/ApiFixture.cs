using Dovecote.Api;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace Dovecote.Tests.Api;

/// <summary>The real Api (embedded silo included) on Kestrel at a loopback port, with platform fakes.</summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public const string ConfiguredKey = "test-key-5c8f1e0a9b7d-3e6a1f4c8b2d90e7";
    public const string AdminToken = "admin-token-0d9a8c7b6e5f-7a3c9e1b5d2f8046";
    public const string SeededChatId = "4242";
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-api-").FullName;
    private WebApplication? _app;

    public FakeTelegramServer Telegram { get; } = new();
    public string BaseUrl { get; private set; } = "";
    public IGrainFactory Grains => _app!.Services.GetRequiredService<IGrainFactory>();

    public async ValueTask InitializeAsync()
    {
        await Telegram.StartAsync();
        _app = DovecoteApi.Create(LoopbackApiArguments.For(
            _dataDirectory,
            $"--DOVECOTE_API_KEYS=other-key-1-a8d2c6e0f4b9173c5e2a, {ConfiguredKey}",
            "--DOVECOTE_ALLOW_PRIVATE_TARGETS=true",
            $"--TELEGRAM_API_BASE_URL={Telegram.BaseUrl}",
            $"--ADMIN_TOKEN={AdminToken}",
            $$"""--TELEGRAM_INSTANCES=[{"id":"phone","botToken":"123456:seed-token-abc","chatId":{{SeededChatId}}}]"""));
        await _app.StartAsync();
        BaseUrl = _app.Urls.First();
    }

    /// <summary>An operator's set-up, until the admin API exists: a Telegram channel for a tenant.</summary>
    public async Task<string> AddTelegramChannelAsync(string tenant, string chatId)
    {
        var channelId = $"tg-{chatId}";
        using var scope = TenantContext.Enter(tenant);
        await Grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, channelId))
            .ConfigureAsync(new ChannelConfig("Phone", true, new TelegramSettings("123456:api-test-token", chatId)));
        return channelId;
    }

    /// <summary>An HttpClient for /admin with the operator token.</summary>
    public HttpClient Admin(string? token = AdminToken)
    {
        var http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public async Task<McpClient> ConnectAsync(string? bearer = ConfiguredKey)
    {
        var headers = new Dictionary<string, string>();
        if (bearer is not null) headers["Authorization"] = $"Bearer {bearer}";
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri($"{BaseUrl}/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = headers,
        });
        return await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        await Telegram.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
