namespace Dovecote.Grains.Channels;

/// <summary>
/// Keeps one channel's line on its tenant's <see cref="IChannelBoardGrain"/> current, held by the channel activation. The
/// grain calls <see cref="Changed"/> where what list_channels shows may have changed: a change of configuration, enabling or
/// health is sent at once (one-way); a pending count alone at most once per <see cref="ChannelBoardOptions.PendingInterval"/>,
/// the first at once and the last when the interval ends. While messages are pending or a pause holds the channel it looks
/// again every interval, since nothing calls the grain when a pause runs out. So the board's pending count and any health
/// change found by the drain itself lag by at most one interval.
/// </summary>
public sealed class ChannelBoardReporter(
    IGrainBase channel,
    IGrainFactory grains,
    string tenant,
    string channelId,
    Func<ChannelInfo?> read,
    TimeSpan interval,
    TimeProvider time,
    ILogger logger)
{
    private bool _reported;
    private ChannelBoardEntry? _sent;
    private DateTimeOffset _sentAt;
    private long _version;
    private IGrainTimer? _timer;
    private bool _due;

    /// <summary>What list_channels shows may have changed.</summary>
    public void Changed()
    {
        var info = read();
        var entry = info is null ? null : ChannelBoardEntry.Of(info);
        var now = time.GetUtcNow();
        if (!_reported || entry != _sent)
        {
            var pendingOnly = _reported && entry is not null && _sent is not null && entry with { Pending = _sent.Pending } == _sent;
            if (pendingOnly && now - _sentAt < interval)
            {
                LookAgainIn(_sentAt + interval - now);
                return;
            }
            Send(entry, now);
        }
        if (info is { Pending: > 0 } or { PausedUntil: not null } or { Hold: not null }) LookAgainIn(interval);
    }

    /// <summary>Only the pending count moved (an accept): free while an update is already due, so a hot channel costs nothing more.</summary>
    public void PendingChanged()
    {
        if (!_due) Changed();
    }

    /// <summary>The line as it is now, counted as reported: the board asks for it when it rebuilds.</summary>
    public ChannelBoardUpdate Current()
    {
        var info = read();
        return Stamp(info is null ? null : ChannelBoardEntry.Of(info), time.GetUtcNow());
    }

    /// <summary>The activation ends: tells the board what it has not been told yet.</summary>
    public void Flush()
    {
        _timer?.Dispose();
        _timer = null;
        _due = false;
        var info = read();
        var entry = info is null ? null : ChannelBoardEntry.Of(info);
        if (_reported && entry != _sent) Send(entry, time.GetUtcNow());
    }

    private void LookAgainIn(TimeSpan delay)
    {
        if (_due) return;
        _due = true;
        if (_timer is null)
        {
            // Interleaved: the tick only reads memory and sends one-way, so it never waits behind a send in flight.
            // Not KeepAlive: a line to update never keeps an idle channel active (Flush sends the last one).
            _timer = channel.RegisterGrainTimer(LookAgainAsync, new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { Interleave = true });
        }
        else
        {
            _timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    private Task LookAgainAsync(CancellationToken cancellationToken)
    {
        _due = false;
        Changed();
        return Task.CompletedTask;
    }

    private void Send(ChannelBoardEntry? entry, DateTimeOffset now)
    {
        var update = Stamp(entry, now);
        try
        {
            // The board is the tenant's own grain; a timer's call carries no tenant, so say it.
            using var scope = TenantContext.Enter(tenant);
            _ = grains.GetGrain<IChannelBoardGrain>(tenant).UpdateAsync(update); // one-way: completes at once
        }
        catch (Exception e)
        {
            // The board rebuilds from the channels when it activates again; delivery never depends on it.
            logger.LogWarning(e, "Channel {Tenant}/{Channel}: telling the channel board failed", tenant, channelId);
        }
    }

    private ChannelBoardUpdate Stamp(ChannelBoardEntry? entry, DateTimeOffset now)
    {
        // From the clock, so a later activation (on any silo) starts above what an earlier one sent.
        _version = Math.Max(_version + 1, now.UtcTicks);
        (_reported, _sent, _sentAt) = (true, entry, now);
        return new ChannelBoardUpdate(channelId, _version, entry);
    }
}
