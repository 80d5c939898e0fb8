namespace Dovecote.Grains.Interfaces.Budgets;

/// <summary>
/// A platform limit many channels share, keyed by what the platform limits (BudgetKeys): one Telegram bot,
/// one Discord rate-limit bucket, one Slack workspace. Channels lease send slots from it in batches and give back what
/// they did not use; a shared pause (a 429) or a rejected credential (a 401) reaches every channel holding a lease.
/// In memory only: a lease ends on its own by its last slot, so a budget that moves to another silo strands nothing.
/// </summary>
[Alias("dovecote.IDestinationBudgetGrain")]
public interface IDestinationBudgetGrain : IGrainWithStringKey
{
    /// <summary>Up to <see cref="LeaseRequest.Slots"/> send times, at least one; none while the budget is paused or its credential rejected.</summary>
    [Alias("Lease")]
    Task<BudgetLease> LeaseAsync(LeaseRequest request);

    /// <summary>Frees the slots of a lease that were not used yet (the channel ran out of work, or was paused or disabled).</summary>
    [Alias("Release")]
    Task ReleaseAsync(long leaseId);

    /// <summary>The platform said "slow down" to one channel: nobody sends before <paramref name="until"/>.</summary>
    [Alias("Pause")]
    Task PauseAsync(DateTimeOffset until);

    /// <summary>The platform refused the credential (a bot token's 401): every channel using it is disabled with the reason.</summary>
    [Alias("Revoke")]
    Task RevokeAsync(string reason);
}

/// <summary>What a channel asks of a budget: how many sends, at least how far apart (its own pace), at the platform's rate.</summary>
/// <param name="Holder">The channel grain, told of pauses and revocations while its lease lasts (and, for revocations, a while after).</param>
/// <param name="Rate">Sends per second the whole budget allows; null for a budget that only shares pauses (Slack workspaces).</param>
/// <param name="SettingsChangedAt">When the channel's settings last changed: a credential rejected before that may have been fixed.</param>
[GenerateSerializer, Immutable, Alias("dovecote.LeaseRequest")]
public sealed record LeaseRequest(
    [property: Id(0)] GrainId Holder,
    [property: Id(1)] int Slots,
    [property: Id(2)] TimeSpan Spacing,
    [property: Id(3)] double? Rate,
    [property: Id(4)] DateTimeOffset SettingsChangedAt);

/// <summary>
/// Send times granted to one channel, earliest first: each may be used from its time until <see cref="SlotTolerance"/> after
/// it. The first may lie far ahead when the budget is busy: channels queue for it. Empty only when the budget is paused
/// (<see cref="PausedUntil"/>) or its credential was rejected (<see cref="RevokedReason"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("dovecote.BudgetLease")]
public sealed record BudgetLease(
    [property: Id(0)] long LeaseId,
    [property: Id(1)] IReadOnlyList<DateTimeOffset> Slots,
    [property: Id(2)] TimeSpan SlotTolerance,
    [property: Id(3)] DateTimeOffset? PausedUntil = null,
    [property: Id(4)] string? RevokedReason = null);
