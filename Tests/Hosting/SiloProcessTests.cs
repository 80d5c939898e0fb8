using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dovecote.Tests.Hosting;

/// <summary>The real Silo executable, killed with SIGKILL and started again on the same data folder.</summary>
public sealed class SiloProcessTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("dovecote-silo-").FullName;
    private readonly int _siloPort = FreePorts.Next();
    private readonly int _gatewayPort = FreePorts.Next();
    private readonly FakeWebhookReceiver _webhooks = new();
    private DovecoteProcess? _silo;

    public async ValueTask InitializeAsync() => await _webhooks.StartAsync();

    [Fact]
    public async Task Pending_deliveries_resume_after_kill_9_and_restart_with_no_new_call()
    {
        _silo = StartSilo();
        var (url, secret) = _webhooks.CreateEndpoint();
        _webhooks.Down = true;

        using (var client = await ConnectClientAsync())
        {
            using var tenant = TenantContext.Enter("default");
            var channel = client.Services.GetRequiredService<IClusterClient>().GetGrain<IChannelGrain>(GrainKeys.Channel("default", "ops-hook"));
            await channel.ConfigureAsync(new ChannelConfig("Ops", true, new WebhookSettings(url, secret)));
            for (var i = 0; i < 5; i++) await channel.EnqueueOkAsync($"pending {i}");
            await _webhooks.WaitUntilAsync(() => _webhooks.Requests.Any(r => r.StatusCode == 503), because: "the silo tried to deliver");
        }

        await _silo.DisposeAsync(); // SIGKILL: no shutdown, no flush
        _webhooks.Down = false;
        var attemptsBeforeRestart = _webhooks.Requests.Count;

        _silo = StartSilo();
        await _webhooks.WaitUntilAsync(() => _webhooks.Deliveries.Select(d => d.WebhookId).Distinct().Count() == 5, TimeSpan.FromSeconds(90),
            "all five acknowledged messages delivered after the restart");

        Assert.True(_webhooks.Requests.Count > attemptsBeforeRestart);
        var bodies = _webhooks.Deliveries
            .Select(d => System.Text.Json.JsonDocument.Parse(d.Body).RootElement.GetProperty("data").GetProperty("message").GetString())
            .Distinct();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"pending {i}"), bodies);
    }

    [Fact]
    public async Task A_second_silo_on_the_same_data_folder_stops_with_a_clear_message()
    {
        _silo = StartSilo();
        using (await ConnectClientAsync()) { } // the first silo is up and owns the folder

        await using var second = StartSilo(FreePorts.Next(), FreePorts.Next());
        await second.WaitForExitAsync();

        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains(Path.Combine(_dataDirectory, "grains"), second.Output);
    }

    /// <summary>One value checked when the host is built, one (a section, in its environment form) when it starts.</summary>
    [Theory]
    [InlineData("DOVECOTE_SECRETS_KEY", "AAAAAAAAAAAAAAAAAAAAAA==", "DOVECOTE_SECRETS_KEY must be the base64 of 32 bytes")]
    [InlineData("Delivery__MaxAttempts", "0", "Delivery__MaxAttempts must be between 1 and 100")]
    public async Task A_bad_setting_stops_the_silo_naming_the_variable(string variable, string value, string message)
    {
        _silo = StartSilo(_siloPort, _gatewayPort, new() { [variable] = value });
        await _silo.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.NotEqual(0, _silo.ExitCode);
        Assert.Contains(message, _silo.Output);
    }

    private DovecoteProcess StartSilo() => StartSilo(_siloPort, _gatewayPort);

    private DovecoteProcess StartSilo(int siloPort, int gatewayPort, Dictionary<string, string>? overrides = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["DOVECOTE_DATA_DIR"] = _dataDirectory,
            ["DOVECOTE_SILO_PORT"] = siloPort.ToString(),
            ["DOVECOTE_GATEWAY_PORT"] = gatewayPort.ToString(),
            ["DOVECOTE_SERVICE_ID"] = "silo-process-test",
            ["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true",
            ["Delivery__ReminderPeriod"] = "00:00:02",
            ["Delivery__InitialBackoff"] = "00:00:00.200",
            ["Delivery__MaxBackoff"] = "00:00:01",
            ["Delivery__MaxAttempts"] = "100",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (name, value) in overrides ?? []) environment[name] = value;
        return DovecoteProcess.Start("Silo", environment);
    }

    private async Task<IHost> ConnectClientAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(_silo!.HasExited, $"the silo exited: {_silo.Output}");
            try
            {
                var builder = Host.CreateApplicationBuilder();
                builder.Logging.SetMinimumLevel(LogLevel.Error); // the kill makes the client log connection resets
                builder.UseOrleansClient(client => client.UseLocalhostClustering(_gatewayPort, "silo-process-test", "dovecote"));
                var host = builder.Build();
                await host.StartAsync(TestContext.Current.CancellationToken);
                return host;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, TestContext.Current.CancellationToken); // polling for the silo process to open its gateway
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_silo is not null) await _silo.DisposeAsync();
        await _webhooks.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
