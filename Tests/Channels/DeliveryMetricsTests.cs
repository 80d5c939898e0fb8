using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Interfaces.Channels;
using Dovecote.Grains.Interfaces.Tenants;
using Dovecote.Tests.Fakes;

namespace Dovecote.Tests.Channels;

[Collection(DeliveryClusterCollection.Name)]
public sealed class DeliveryMetricsTests(DeliveryClusterFixture fx) : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, string? Outcome, string? Type)> _measurements = new();

    [Fact]
    public async Task Deliveries_retries_pauses_and_pending_are_measured_by_channel_type()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DeliveryMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? outcome = null, type = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome") outcome = tag.Value as string;
                if (tag.Key == "channel_type") type = tag.Value as string;
            }
            _measurements.Enqueue((instrument.Name, value, outcome, type));
        });
        _listener.Start();
        using var tenant = TenantContext.Enter("metrics");
        var (url, secret) = fx.Webhooks.CreateEndpoint();
        var channel = fx.Client.Channel("metrics", ChannelTestKit.UniqueId("wh"));
        await channel.ConfigureAsync(new ChannelConfig("Hook", true, new WebhookSettings(url, secret)));
        fx.Webhooks.Script(FakeWebhookReceiver.ServerError(), FakeWebhookReceiver.RateLimited(1));

        var id = await channel.EnqueueOkAsync("measured");
        Assert.Equal(DeliveryState.Delivered, (await channel.WaitForFinalAsync(id)).State);

        var webhook = _measurements.Where(m => m.Type == "webhook").ToList();
        Assert.Contains(webhook, m => m.Instrument == "dovecote.deliveries" && m.Outcome == "delivered");
        Assert.Contains(webhook, m => m.Instrument == "dovecote.delivery.retries");
        Assert.Contains(webhook, m => m.Instrument == "dovecote.delivery.rate_limit_pauses");
        Assert.Contains(webhook, m => m.Instrument == "dovecote.outbox.pending" && m.Value == 1);
        Assert.Contains(webhook, m => m.Instrument == "dovecote.outbox.pending" && m.Value == -1);
    }

    public void Dispose() => _listener.Dispose();
}
