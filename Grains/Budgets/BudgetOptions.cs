using System.ComponentModel.DataAnnotations;

namespace Dovecote.Grains.Budgets;

/// <summary>The limits channels share (docs/architecture.md, "Shared budgets"). Section "Budgets" (env Budgets__TelegramBotPerSecond ...).</summary>
public sealed class BudgetOptions
{
    public const string Section = "Budgets";

    /// <summary>
    /// Sends per second one Telegram bot gets across all its chats. Telegram says "about 30"; 25 leaves room for the
    /// jitter between a leased send time and the moment the request reaches Telegram, so it never sees 30 in a second.
    /// </summary>
    [Range(0.1, 1_000.0)]
    public double TelegramBotPerSecond { get; set; } = 25;

    /// <summary>A Discord bucket's window when its answers do not show it (Discord reports 5 per 2 s for webhooks).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan DiscordBucketWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Send slots one lease may hold: a channel with a backlog asks a budget once per this many sends.</summary>
    [Range(1, 100)]
    public int MaxLeaseSlots { get; set; } = 8;

    /// <summary>
    /// How far past its first slot one lease reaches (the first is the next free one, however far ahead when the budget is
    /// busy): after a silo dies, what its channels leased goes unused at most this long past where they were queued.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan LeaseHorizon { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How late after its time a slot may still be used; a later send asks for a new one, so sends never bunch up.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:05")]
    public TimeSpan SlotTolerance { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a budget remembers a rejected credential and the channels that leased from it, to disable them all.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan RevocationMemory { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// 401, 403 and 429 answers per platform in <see cref="InvalidAnswerWindow"/> across the cluster, past which channels
    /// whose last answer was invalid are held. Discord bans the egress IP at 10,000 in 10 minutes.
    /// </summary>
    [Range(1, 1_000_000)]
    public int InvalidAnswerThreshold { get; set; } = 5_000;

    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan InvalidAnswerWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a held channel asks whether its platform's invalid-answer budget has room again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan HeldRecheck { get; set; } = TimeSpan.FromSeconds(15);
}
