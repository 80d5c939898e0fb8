using Dovecote.Grains.Tenants;

namespace Dovecote.Grains.Channels;

/// <summary>
/// One tenant's channels as list_channels shows them, in memory only: on activation it lists the tenant's channel ids and
/// asks each channel for its line (a few at a time), then channels report their own changes one-way
/// (<see cref="ChannelBoardReporter"/>) and the tenant grain reports channels it lists or drops. Nothing is stored, so a
/// board lost with its silo is rebuilt the same way on its next call.
/// </summary>
[GrainType("channel-board")]
public sealed class ChannelBoardGrain(IOptions<ChannelBoardOptions> options, ILogger<ChannelBoardGrain> logger) : Grain, IChannelBoardGrain
{
    /// <summary>
    /// Lines the board keeps. Listed ones are bounded by the tenant's channel limit (at most <see cref="TenantOptions.HardMaxChannels"/>);
    /// the rest are reports from channels the tenant does not list (yet, or any more), never shown, capped at as many again.
    /// At most about 700 B a line (a 64-character id, a 100-character name, a health text, counters): ≤ 1.4 MB.
    /// </summary>
    public const int MaxLines = 2 * TenantOptions.HardMaxChannels;

    /// <summary>By ordinal channel id, so a page is a binary search and a short walk.</summary>
    private readonly SortedList<string, ChannelBoardLine> _lines = new(StringComparer.Ordinal);
    private bool _fullLogged;

    private string Tenant => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Reports that arrive meanwhile wait for the rebuild; their versions decide whether they are newer than what it found.
        using var scope = TenantContext.Enter(Tenant);
        var owner = GrainFactory.GetGrain<ITenantGrain>(Tenant);
        var ids = await owner.GetAsync() is null ? [] : await owner.GetChannelIdsAsync();
        foreach (var id in ids)
            if (Line(id) is { } line) line.Listed = true;

        var next = 0;
        var failed = 0;
        async Task AskChannelsAsync()
        {
            // Runs on the activation's scheduler: the shared index and the lines need no lock.
            while (next < ids.Count && !cancellationToken.IsCancellationRequested)
            {
                var id = ids[next++];
                try
                {
                    Apply(await GrainFactory.GetGrain<IChannelGrain>(GrainKeys.Channel(Tenant, id)).GetBoardEntryAsync());
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // It reports itself when it next activates or changes; until then it is not shown.
                    failed++;
                    logger.LogWarning(e, "Channel board {Tenant}: channel {Channel} did not answer the rebuild", Tenant, id);
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Math.Min(options.Value.RebuildConcurrency, ids.Count)).Select(_ => AskChannelsAsync()));
        logger.LogInformation("Channel board {Tenant} rebuilt from {Count} channels ({Failed} did not answer)", Tenant, ids.Count, failed);
    }

    Task<ChannelBoardPage> IChannelBoardGrain.GetPageAsync(string? after, int limit)
    {
        if (limit is < 1 or > IChannelBoardGrain.MaxPageSize)
            throw new ArgumentException($"limit must be 1 to {IChannelBoardGrain.MaxPageSize}", nameof(limit));
        var page = new List<ChannelBoardEntry>(Math.Min(limit, _lines.Count));
        string? last = null;
        for (var at = after is null ? 0 : FirstAfter(after); at < _lines.Count; at++)
        {
            if (_lines.GetValueAtIndex(at) is not { Listed: true, Entry: { } entry }) continue;
            if (page.Count == limit) return Task.FromResult(new ChannelBoardPage(page, last));
            page.Add(entry);
            last = entry.ChannelId;
        }
        return Task.FromResult(new ChannelBoardPage(page, null));
    }

    Task IChannelBoardGrain.UpdateAsync(ChannelBoardUpdate update)
    {
        Apply(update);
        return Task.CompletedTask;
    }

    Task IChannelBoardGrain.ListedAsync(string channelId)
    {
        if (Line(channelId) is { } line) line.Listed = true;
        return Task.CompletedTask;
    }

    Task IChannelBoardGrain.UnlistedAsync(string channelId)
    {
        _lines.Remove(channelId);
        return Task.CompletedTask;
    }

    private void Apply(ChannelBoardUpdate update)
    {
        var existing = _lines.TryGetValue(update.ChannelId, out var found) ? found : null;
        if (existing is null && update.Entry is null) return; // deleted, and never seen
        if (existing is not null && existing.Version >= update.Version) return; // out of order: the board holds a newer one
        if ((existing ?? Line(update.ChannelId)) is not { } line) return;
        // The deletion's version stays while the tenant still lists the id, so a late report from before it cannot bring it back.
        (line.Version, line.Entry) = (update.Version, update.Entry);
    }

    /// <summary>The line of <paramref name="channelId"/>, created if missing; null when the board is full (then logged once).</summary>
    private ChannelBoardLine? Line(string channelId)
    {
        if (_lines.TryGetValue(channelId, out var line)) return line;
        if (!GrainKeys.IsValidChannelId(channelId)) return null;
        if (_lines.Count >= MaxLines)
        {
            if (!_fullLogged) logger.LogWarning("Channel board {Tenant} is full ({Max} lines): reports of further channels are dropped", Tenant, MaxLines);
            _fullLogged = true;
            return null;
        }
        _lines.Add(channelId, line = new ChannelBoardLine());
        return line;
    }

    /// <summary>The index of the first id ordinally after <paramref name="after"/>.</summary>
    private int FirstAfter(string after)
    {
        var keys = _lines.Keys;
        var (low, high) = (0, keys.Count);
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (string.CompareOrdinal(keys[middle], after) <= 0) low = middle + 1;
            else high = middle;
        }
        return low;
    }
}

/// <summary>A channel's place on the board: whether the tenant lists it, and its last reported summary (null: not configured).</summary>
internal sealed class ChannelBoardLine
{
    public bool Listed { get; set; }
    public long Version { get; set; }
    public ChannelBoardEntry? Entry { get; set; }
}
