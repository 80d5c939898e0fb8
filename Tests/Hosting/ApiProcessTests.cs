using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dovecote.Tests.Fakes;

namespace Dovecote.Tests.Hosting;

/// <summary>The one-command embedded Dovecote (the Api executable), killed with SIGKILL and started again.</summary>
public sealed class ApiProcessTests : IAsyncLifetime
{
    private const string ApiKey = "process-test-key-31d7c2-9b4e0f6a8c2d5e17";
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-api-process-").FullName;
    private readonly int _httpPort = FreePorts.Next();
    private readonly FakeWebhookReceiver _webhooks = new();
    private string _webhookUrl = "", _webhookSecret = "";

    public async ValueTask InitializeAsync()
    {
        await _webhooks.StartAsync();
        (_webhookUrl, _webhookSecret) = _webhooks.CreateEndpoint();
    }

    [Fact]
    public async Task Messages_queued_for_a_down_destination_survive_kill_9_and_are_delivered_after_restart_with_no_new_call()
    {
        _webhooks.Down = true;
        await using (var api = StartApi())
        {
            await WaitUntilReadyAsync(api);
            for (var i = 0; i < 3; i++)
            {
                var result = await SendAsync($"queued {i}");
                Assert.Equal("queued", result.GetProperty("deliveries")[0].GetProperty("status").GetString());
            }
            await _webhooks.WaitUntilAsync(() => _webhooks.Requests.Any(r => r.StatusCode == 503), because: "the Api tried to deliver");
        } // disposing kills with SIGKILL

        _webhooks.Down = false;
        await using var restarted = StartApi();

        await _webhooks.WaitUntilAsync(() => _webhooks.Deliveries.Select(d => d.WebhookId).Distinct().Count() == 3, TimeSpan.FromSeconds(90),
            "all three acknowledged messages after the restart");
        var messages = _webhooks.Deliveries
            .Select(d => JsonDocument.Parse(d.Body).RootElement.GetProperty("data").GetProperty("message").GetString())
            .Distinct();
        Assert.Equal(["queued 0", "queued 1", "queued 2"], messages);
    }

    [Fact]
    public async Task A_bad_public_url_stops_the_process_naming_the_variable()
    {
        await using var api = DovecoteProcess.Start("Api", new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{_httpPort}",
            ["DOVECOTE_DATA_DIR"] = _dataDirectory,
            ["DOVECOTE_PUBLIC_URL"] = "https://notify.example.com/dovecote",
        });
        await api.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.NotEqual(0, api.ExitCode);
        Assert.Contains("DOVECOTE_PUBLIC_URL must be an origin with no path, query or fragment", api.Output);
    }

    private DovecoteProcess StartApi() => DovecoteProcess.Start("Api", new Dictionary<string, string>
    {
        ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{_httpPort}",
        ["DOVECOTE_DATA_DIR"] = _dataDirectory,
        ["DOVECOTE_SILO_PORT"] = FreePorts.Next().ToString(),
        ["DOVECOTE_GATEWAY_PORT"] = FreePorts.Next().ToString(),
        ["DOVECOTE_API_KEYS"] = ApiKey,
        ["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true",
        ["WEBHOOK_INSTANCES"] = JsonSerializer.Serialize(new[] { new { id = "ops", url = _webhookUrl, secret = _webhookSecret } }),
        ["Delivery__ReminderPeriod"] = "00:00:02",
        ["Delivery__InitialBackoff"] = "00:00:00.200",
        ["Delivery__MaxBackoff"] = "00:00:01",
        ["Delivery__MaxAttempts"] = "100",
        ["Logging__LogLevel__Default"] = "Warning",
    });

    private Task WaitUntilReadyAsync(DovecoteProcess api) => api.WaitUntilReadyAsync($"http://127.0.0.1:{_httpPort}/health/ready");

    private Task<JsonElement> SendAsync(string message) =>
        DovecoteProcess.SendNotificationAsync(_httpPort, ApiKey, new { channel = "webhook-ops", message, wait_seconds = 0 });

    public async ValueTask DisposeAsync()
    {
        await _webhooks.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
