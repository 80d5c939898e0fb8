using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Interfaces.Budgets;

namespace Dovecote.Grains.Budgets;

/// <summary>
/// The shared limits one channel sends under, held by its activation: send slots leased from its destination budget
/// (a Telegram bot, a Discord bucket, a Slack workspace), pauses other channels of that budget caused, and its platform's
/// invalid-answer budget once the channel's own answers were invalid. A healthy channel with slots in hand calls no grain.
/// </summary>
public sealed class ChannelBudgets(IGrainFactory grains, GrainId holder, BudgetOptions options, BudgetMetrics metrics, TimeProvider time)
{
    private readonly Queue<DateTimeOffset> _slots = new();
    private IDestinationBudgetGrain? _budget;
    private double? _rate;
    private long _leaseId;
    private TimeSpan _tolerance = options.SlotTolerance;
    private DateTimeOffset _pausedUntil;
    private IEgressBudgetGrain? _egress;
    private string? _platform;
    private bool _lastAnswerInvalid;
    private EgressStatus? _egressStatus;
    private DateTimeOffset _egressCheckedAt;

    /// <summary>The destination budget's key, or null when the channel shares none (yet: a Discord bucket is learned from answers).</summary>
    public string? Key { get; private set; }

    /// <summary>What the channel waits for besides its own pace, for its health: "paused: bot budget", "held: Discord invalid-request budget".</summary>
    public string? Hold(DateTimeOffset now) =>
        _pausedUntil > now && Key is not null ? $"paused: {BudgetKeys.Describe(Key)}"
        : _lastAnswerInvalid && _egressStatus is { Held: true } ? $"held: {_platform} invalid-request budget"
        : null;

    /// <summary>Until when another channel's 429 pauses this one, or null.</summary>
    public DateTimeOffset? PausedUntil(DateTimeOffset now) => _pausedUntil > now ? _pausedUntil : null;

    /// <summary>
    /// Sends under <paramref name="key"/>'s budget from now on (null: none), at <paramref name="rate"/> sends a second for
    /// the whole budget (null: it shares only pauses). A different budget drops the old lease.
    /// </summary>
    public async Task UseAsync(string? key, double? rate)
    {
        _rate = rate;
        if (key == Key) return;
        await ReleaseAsync();
        Key = key;
        _budget = key is null ? null : grains.GetGrain<IDestinationBudgetGrain>(key);
        _pausedUntil = default;
    }

    /// <summary>Counts this platform's invalid answers ("Discord", "Telegram", "Slack"; null for none).</summary>
    public void CountInvalidAnswersOf(string? platform)
    {
        _platform = platform;
        _egress = platform is null ? null : grains.GetGrain<IEgressBudgetGrain>(platform.ToLowerInvariant());
    }

    /// <summary>
    /// Whether the channel may send now under its shared budgets: <see cref="BudgetWait.Now"/> (then <see cref="Take"/>
    /// the slot), how long to wait, or that the budget's credential was rejected.
    /// </summary>
    /// <param name="wanted">Sends the channel has work for: a lease holds no more.</param>
    /// <param name="spacing">The channel's own pace between sends, so its leased slots keep to it.</param>
    public async Task<BudgetWait> ReadyAsync(int wanted, TimeSpan spacing, DateTimeOffset settingsChangedAt)
    {
        var now = time.GetUtcNow();
        if (_lastAnswerInvalid && _egress is not null)
        {
            if (_egressStatus is null || now - _egressCheckedAt >= (_egressStatus.Held ? options.HeldRecheck : options.SlotTolerance))
                (_egressStatus, _egressCheckedAt) = (await _egress.GetStatusAsync(), now);
            if (_egressStatus.Held) return Waited("held", options.HeldRecheck);
        }
        if (_pausedUntil > now) return Waited("paused", _pausedUntil - now);
        if (_budget is null) return BudgetWait.Now;

        while (_slots.TryPeek(out var stale) && stale + _tolerance < now) _slots.Dequeue(); // too late to use
        if (_slots.Count == 0)
        {
            var lease = await _budget.LeaseAsync(new LeaseRequest(holder, wanted, spacing, _rate, settingsChangedAt));
            now = time.GetUtcNow();
            if (lease.RevokedReason is { } reason) return new BudgetWait(TimeSpan.Zero, reason);
            if (lease.PausedUntil > now)
            {
                _pausedUntil = lease.PausedUntil.Value;
                return Waited("paused", _pausedUntil - now);
            }
            (_leaseId, _tolerance) = (lease.LeaseId, lease.SlotTolerance);
            foreach (var slot in lease.Slots) _slots.Enqueue(slot);
            if (_slots.Count == 0) return Waited("slot", _tolerance);
        }
        var next = _slots.Peek();
        return next > now ? Waited("slot", next - now) : BudgetWait.Now;
    }

    /// <summary>Uses the slot <see cref="ReadyAsync"/> found due.</summary>
    public void Take() => _slots.TryDequeue(out _);

    /// <summary>
    /// Shares what one answer says: a 429 pauses the whole budget, a rejected credential disables every channel using
    /// it, a Discord bucket joins the channel to it, and an invalid answer counts against the platform's egress budget.
    /// </summary>
    /// <param name="pause">How long a 429 pauses the channel (clamped by its MaxPause); null for any other answer.</param>
    /// <param name="bucketKey">The budget a reported bucket maps to, for this channel.</param>
    public async Task ObserveAsync(SendOutcome outcome, TimeSpan? pause, Func<RateBucket, string>? bucketKey)
    {
        var now = time.GetUtcNow();
        if (outcome.Bucket is { } bucket && bucketKey is not null)
        {
            // The first answer of a window (one used) tells its length; otherwise Discord's documented 2 s.
            var window = bucket.Remaining == bucket.Limit - 1 && bucket.ResetAfter > TimeSpan.Zero ? bucket.ResetAfter : options.DiscordBucketWindow;
            await UseAsync(bucketKey(bucket), bucket.Limit / window.TotalSeconds);
            if (outcome.Kind == OutcomeKind.Delivered && bucket.Remaining == 0 && bucket.ResetAfter > TimeSpan.Zero)
                pause = bucket.ResetAfter; // the next send of anyone in the bucket would be a 429
        }
        if (_budget is not null && pause is { } wait)
        {
            _pausedUntil = now + wait;
            _slots.Clear();
            await _budget.PauseAsync(_pausedUntil);
        }
        if (_budget is not null && outcome.CredentialRejected) await _budget.RevokeAsync(outcome.Error ?? "the credential was rejected");

        _lastAnswerInvalid = outcome.InvalidAnswer;
        if (_lastAnswerInvalid && _egress is not null) (_egressStatus, _egressCheckedAt) = (await _egress.ReportInvalidAsync(1), now);
    }

    /// <summary>Another channel of the budget was told to slow down.</summary>
    public void Paused(string budgetKey, DateTimeOffset until)
    {
        if (budgetKey != Key || until <= _pausedUntil) return;
        _pausedUntil = until;
        _slots.Clear(); // the budget freed them
    }

    /// <summary>Gives back the slots not used (nothing left to send, or the channel stopped).</summary>
    public async Task ReleaseAsync()
    {
        if (_slots.Count == 0 || _budget is null) return;
        _slots.Clear();
        await _budget.ReleaseAsync(_leaseId);
    }

    private BudgetWait Waited(string reason, TimeSpan wait)
    {
        metrics.Waited(reason);
        return new BudgetWait(wait, null);
    }
}

/// <summary>Zero <see cref="Wait"/>: send now. <see cref="RevokedReason"/>: the budget's credential was rejected; disable the channel.</summary>
public readonly record struct BudgetWait(TimeSpan Wait, string? RevokedReason)
{
    public static BudgetWait Now => default;
}
