using System.Text;
using System.Text.RegularExpressions;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Grains.Storage;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dovecote.Tests.Storage.Legacy;

/// <summary>
/// Throwaway: run on the code before the paged outbox to capture what it stores for a channel with 3 pending messages
/// (channel-state-v1.json). The encrypted settings become a placeholder the migration test fills in.
/// </summary>
public sealed class CaptureLegacyChannelState
{
    [Fact(Explicit = true)]
    public async Task Capture()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("dovecote-capture-").FullName;
        await using var webhooks = new FakeWebhookReceiver();
        await webhooks.StartAsync();
        var log = new GrainStateLog(new GrainStateLogOptions { Directory = Path.Combine(dataDirectory, "grains") }, NullLogger<GrainStateLog>.Instance);
        var settings = DeliveryClusterFixture.DeliverySettings("http://127.0.0.1:9");
        settings["Delivery:MaxAttempts"] = "100";
        settings["DOVECOTE_SECRETS_KEY"] = Convert.ToBase64String(new byte[32]);
        var cluster = DeliveryClusterFixture.BuildCluster(log, dataDirectory, settings, serviceId: "legacy-capture");
        await cluster.DeployAsync(TestContext.Current.CancellationToken);
        using var tenant = TenantContext.Enter("legacy");
        webhooks.Down = true;
        var (url, secret) = webhooks.CreateEndpoint();
        var channel = cluster.Client.GetGrain<IChannelGrain>(GrainKeys.Channel("legacy", "hook"));
        await channel.ConfigureAsync(new ChannelConfig("Legacy hook", true, new WebhookSettings(url, secret), new RateLimitPolicy(100, 100)));
        await channel.EnqueueAsync(new Notification("first pending message", "One"), "key-1");
        await channel.EnqueueAsync(new Notification("second: **markdown** and ünïcödé 日本語"), "key-2");
        await channel.EnqueueAsync(new Notification("third", Url: "https://example.com/3"), null);
        // Let the head fail once, so its retry fields are stored too.
        while (webhooks.Requests.Count == 0) await Task.Delay(50, TestContext.Current.CancellationToken);
        await cluster.DeactivateAsync(channel);
        await cluster.DisposeAsync();

        var stored = Assert.Single(log.Scan("state/"), e => e.Key.EndsWith("/channel/channel/legacy/hook", StringComparison.Ordinal));
        // The stored bytes as they are, but for the ciphertext (bound to the key and the grain id).
        var json = Regex.Replace(Encoding.UTF8.GetString(stored.Value.Data.Span), "\"ProtectedSettings\":\"v1\\.[^\"]*\"",
            "\"ProtectedSettings\":\"{{PROTECTED_SETTINGS}}\"");
        Assert.Contains("{{PROTECTED_SETTINGS}}", json);
        var target = Path.Combine(AppContext.BaseDirectory, "../../../Storage/Legacy/channel-state-v1.json");
        await File.WriteAllTextAsync(target, json, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(target + ".key", stored.Key + "\n", TestContext.Current.CancellationToken);
        await log.DisposeAsync();
        Directory.Delete(dataDirectory, recursive: true);
    }
}
