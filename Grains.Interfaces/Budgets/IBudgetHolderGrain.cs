namespace Dovecote.Grains.Interfaces.Budgets;

/// <summary>
/// What a shared budget tells the channels that lease from it. One-way: a budget never waits on a channel.
/// Not tenant-scoped: a Telegram bot's budget serves every tenant whose channels use that bot.
/// </summary>
[Alias("dovecote.IBudgetHolderGrain")]
public interface IBudgetHolderGrain : IGrainWithStringKey
{
    /// <summary>Another channel of the budget got a 429: drop the lease's slots and send nothing before <paramref name="until"/>.</summary>
    [Alias("BudgetPaused"), OneWay]
    Task BudgetPausedAsync(string budgetKey, DateTimeOffset until);

    /// <summary>The budget's credential was rejected at <paramref name="at"/>: disable the channel unless its settings changed since.</summary>
    [Alias("CredentialRejected"), OneWay]
    Task CredentialRejectedAsync(string budgetKey, string reason, DateTimeOffset at);
}
