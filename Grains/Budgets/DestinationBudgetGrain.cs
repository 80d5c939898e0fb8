using Dovecote.Grains.Interfaces.Budgets;

namespace Dovecote.Grains.Budgets;

/// <summary>
/// One shared platform limit (a Telegram bot, a Discord bucket, a Slack workspace): leases send slots at the platform's
/// rate, spreads one channel's 429 to every lease holder, and disables every channel of a rejected credential.
/// Stateless by design: a lease reaches at most the lease horizon past its first slot, a pause is the platform's to repeat, and a channel
/// that missed a revocation gets the platform's own 401 on its next attempt.
/// </summary>
[GrainType("destination-budget")]
public sealed class DestinationBudgetGrain(IOptions<BudgetOptions> options, BudgetMetrics metrics, TimeProvider time, ILogger<DestinationBudgetGrain> logger)
    : Grain, IDestinationBudgetGrain
{
    /// <summary>Channels remembered for pushes, beyond which the longest silent go first (≈ 100 bytes each in memory).</summary>
    public const int MaxHolders = 10_000;

    private readonly BudgetOptions _options = options.Value;
    private readonly SlotCalendar _calendar = new();
    private readonly Dictionary<GrainId, Holder> _holders = [];
    private long _lastLeaseId;
    private DateTimeOffset _pausedUntil;
    private (string Reason, DateTimeOffset At)? _revoked;

    private string Key => this.GetPrimaryKeyString();
    private string Kind => Key[..Math.Max(0, Key.IndexOf('.'))];

    Task<BudgetLease> IDestinationBudgetGrain.LeaseAsync(LeaseRequest request)
    {
        metrics.BudgetCall(Kind, "lease");
        var now = time.GetUtcNow();
        var leaseId = ++_lastLeaseId;
        Remember(request.Holder, now, now);
        if (_revoked is { } revoked && now - revoked.At < _options.RevocationMemory && request.SettingsChangedAt <= revoked.At)
            return Task.FromResult(new BudgetLease(leaseId, [], _options.SlotTolerance, RevokedReason: revoked.Reason));
        if (_pausedUntil > now)
            return Task.FromResult(new BudgetLease(leaseId, [], _options.SlotTolerance, PausedUntil: _pausedUntil));

        var wanted = Math.Clamp(request.Slots, 1, _options.MaxLeaseSlots);
        List<DateTimeOffset> slots = request.Rate is { } rate and > 0
            ? _calendar.Book(leaseId, wanted, request.Spacing, TimeSpan.FromSeconds(1 / rate), now, _options.LeaseHorizon)
            // Only pauses are shared: the channel keeps its own pace.
            : [.. Enumerable.Range(0, wanted).Select(i => now + request.Spacing * i).TakeWhile(at => at <= now + _options.LeaseHorizon)];
        Remember(request.Holder, now, slots[^1] + _options.SlotTolerance);
        return Task.FromResult(new BudgetLease(leaseId, slots, _options.SlotTolerance));
    }

    Task IDestinationBudgetGrain.ReleaseAsync(long leaseId)
    {
        metrics.BudgetCall(Kind, "release");
        _calendar.Release(leaseId, time.GetUtcNow());
        return Task.CompletedTask;
    }

    Task IDestinationBudgetGrain.PauseAsync(DateTimeOffset until)
    {
        metrics.BudgetCall(Kind, "pause");
        var now = time.GetUtcNow();
        if (until <= _pausedUntil || until <= now) return Task.CompletedTask;
        _pausedUntil = until;
        _calendar.ClearUntil(until);
        var told = 0;
        foreach (var (holder, entry) in _holders)
        {
            if (entry.LeaseEndsAt < now) continue;
            GrainFactory.GetGrain<IBudgetHolderGrain>(holder).BudgetPausedAsync(Key, until).Ignore();
            told++;
        }
        logger.LogInformation("Budget {Budget} paused until {Until} by a platform's 429; {Holders} lease holders told", Key, until, told);
        return Task.CompletedTask;
    }

    Task IDestinationBudgetGrain.RevokeAsync(string reason)
    {
        metrics.BudgetCall(Kind, "revoke");
        var now = time.GetUtcNow();
        if (_revoked is { } earlier && now - earlier.At < _options.RevocationMemory) return Task.CompletedTask; // already told everyone
        _revoked = (reason, now);
        _calendar.ClearUntil(DateTimeOffset.MaxValue);
        DelayDeactivation(_options.RevocationMemory); // so channels that lease later still learn it
        foreach (var holder in _holders.Where(h => now - h.Value.SeenAt < _options.RevocationMemory).Select(h => h.Key))
            GrainFactory.GetGrain<IBudgetHolderGrain>(holder).CredentialRejectedAsync(Key, reason, now).Ignore();
        logger.LogWarning("Budget {Budget}: the credential was rejected ({Reason}); disabling the {Holders} channels that use it",
            Key, reason, _holders.Count);
        return Task.CompletedTask;
    }

    private void Remember(GrainId holder, DateTimeOffset now, DateTimeOffset leaseEndsAt)
    {
        _holders[holder] = new Holder(now, leaseEndsAt);
        if (_holders.Count <= MaxHolders) return;
        var silent = _holders.MinBy(h => h.Value.SeenAt).Key;
        _holders.Remove(silent);
    }

    private readonly record struct Holder(DateTimeOffset SeenAt, DateTimeOffset LeaseEndsAt);
}
