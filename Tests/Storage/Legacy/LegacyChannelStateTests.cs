using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Security;
using Dovecote.Grains.Storage;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Dovecote.Tests.Storage.Legacy;

/// <summary>
/// A data folder written before the paged outbox survives the upgrade: channel-state-v1.json is what that code stored
/// for a webhook channel with 3 pending messages (the head failed once). Written into a fresh folder with the drain
/// reminder that code kept, a silo started on it and called by nobody delivers all 3, in order, once, and rewrites the
/// state without its "Outbox" array.
/// </summary>
public sealed class LegacyChannelStateTests
{
    private const string ServiceId = "legacy-upgrade";
    private const string ChannelKey = "legacy/hook"; // the grain key the asset's delivery ids and ciphertext belong to
    private static readonly byte[] SecretsKey = new byte[32];
    private static readonly string[] Expected = ["first pending message", "second: ", "third"];

    [Theory]
    [InlineData(0)]
    [InlineData(1)] // a migration cut short after writing the first record: it must not send that message twice
    [InlineData(3)] // ... or after writing them all, before the state write
    public async Task Pending_messages_of_a_pre_paging_channel_state_are_delivered_in_order_exactly_once(int recordsAlreadyMigrated)
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDirectory = Directory.CreateTempSubdirectory("dovecote-legacy-").FullName;
        await using var webhooks = new FakeWebhookReceiver();
        await webhooks.StartAsync();
        var (url, secret) = webhooks.CreateEndpoint();
        var log = new GrainStateLog(new GrainStateLogOptions { Directory = Path.Combine(dataDirectory, "grains") }, NullLogger<GrainStateLog>.Instance);
        var grainId = GrainId.Create("channel", ChannelKey);
        var stateKey = $"state/{ServiceId}/channel/{grainId}";
        try
        {
            var legacy = (await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Storage", "Legacy", "channel-state-v1.json"), ct))
                .Replace("{{PROTECTED_SETTINGS}}", new SecretProtector(SecretsKey).Protect(
                    JsonSerializer.Serialize<ChannelSettings>(new WebhookSettings(url, secret)), ChannelKey), StringComparison.Ordinal);
            await log.WriteAsync(stateKey, null, Encoding.UTF8.GetBytes(legacy), ct);
            var pending = JsonNode.Parse(legacy)!["Outbox"]!.AsArray();
            Assert.Equal(3, pending.Count);
            for (var i = 0; i < recordsAlreadyMigrated; i++)
            {
                var record = pending[i]!.DeepClone();
                record["Sequence"] = i;
                await log.WriteAsync($"state/{ServiceId}/outbox.{i}/{grainId}", null, Encoding.UTF8.GetBytes(record.ToJsonString()), ct);
            }
            await new LogReminderTable(log, Options.Create(new ClusterOptions { ServiceId = ServiceId })).UpsertRow(new ReminderEntry
            {
                GrainId = grainId,
                ReminderName = "drain",
                StartAt = DateTime.UtcNow,
                Period = TimeSpan.FromSeconds(1),
            });

            var settings = DeliveryClusterFixture.DeliverySettings("http://127.0.0.1:9");
            settings["DOVECOTE_SECRETS_KEY"] = Convert.ToBase64String(SecretsKey);
            settings["Delivery:AttemptTimeout"] = "00:00:10"; // no attempt times out on a busy machine: exactly once is checkable
            var cluster = DeliveryClusterFixture.BuildCluster(log, dataDirectory, settings, ServiceId);
            await cluster.DeployAsync(ct);
            try
            {
                // Nothing calls the channel: its reminder activates it. Done when every record is cleared.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (log.Scan($"state/{ServiceId}/outbox.").Count > 0 || webhooks.Deliveries.Count < 3)
                {
                    Assert.True(DateTime.UtcNow < deadline, $"{webhooks.Deliveries.Count} of 3 delivered");
                    await Task.Delay(50, ct);
                }

                var bodies = webhooks.Deliveries.Select(d => d.Body).ToList();
                Assert.Equal(3, bodies.Count);
                for (var i = 0; i < 3; i++) Assert.Contains(Expected[i], bodies[i]);
                Assert.True(log.TryGet(stateKey, out var stored));
                var state = Encoding.UTF8.GetString(stored.Data.Span);
                Assert.DoesNotContain("\"Outbox\"", state);
                Assert.Contains("\"HeadSequence\":3", state);
                Assert.Contains("\"NextSequence\":3", state);
                Assert.Contains("\"key-2\"", state); // the idempotency window came through
            }
            finally
            {
                await cluster.DisposeAsync();
            }
        }
        finally
        {
            await log.DisposeAsync();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
