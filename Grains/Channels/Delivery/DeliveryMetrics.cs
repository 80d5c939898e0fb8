using System.Diagnostics.Metrics;

namespace Dovecote.Grains.Channels.Delivery;

/// <summary>
/// What operators watch: outcomes, retries, rate-limit pauses, pending messages and accept-to-delivery latency.
/// Tagged by channel type only, so tenants and channels do not explode the series count.
/// </summary>
public sealed class DeliveryMetrics
{
    public const string MeterName = "Dovecote.Delivery";

    private readonly Counter<long> _finished;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _pauses;
    private readonly UpDownCounter<long> _pending;
    private readonly Histogram<double> _latency;

    public DeliveryMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _finished = meter.CreateCounter<long>("dovecote.deliveries", description: "Messages finished, by outcome (delivered or failed).");
        _retries = meter.CreateCounter<long>("dovecote.delivery.retries", description: "Attempts that failed and will be retried.");
        _pauses = meter.CreateCounter<long>("dovecote.delivery.rate_limit_pauses", description: "Channels paused by a platform's 429.");
        _pending = meter.CreateUpDownCounter<long>("dovecote.outbox.pending", description: "Messages accepted and not yet finished on this silo.");
        _latency = meter.CreateHistogram<double>("dovecote.delivery.latency", unit: "s", description: "From accept to the last chunk delivered.");
    }

    public void Finished(ChannelType type, DeliveryState outcome, TimeSpan sinceAccepted)
    {
        _finished.Add(1, Type(type), new("outcome", outcome == DeliveryState.Delivered ? "delivered" : "failed"));
        if (outcome == DeliveryState.Delivered) _latency.Record(sinceAccepted.TotalSeconds, Type(type));
    }

    public void Retried(ChannelType type) => _retries.Add(1, Type(type));

    public void Paused(ChannelType type) => _pauses.Add(1, Type(type));

    public void PendingChanged(ChannelType type, int delta)
    {
        if (delta != 0) _pending.Add(delta, Type(type));
    }

    private static KeyValuePair<string, object?> Type(ChannelType type) => new("channel_type", type.ToString().ToLowerInvariant());
}
