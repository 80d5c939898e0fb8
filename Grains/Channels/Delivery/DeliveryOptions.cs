using System.ComponentModel.DataAnnotations;

namespace Dovecote.Grains.Channels.Delivery;

/// <summary>How channels retry, pace and bound their work. Section "Delivery" (env Delivery__MaxAttempts ...).</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>One HTTP attempt; the platforms answer in well under a second when healthy.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:02:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Failed attempts (429s not counted) before a message is dead-lettered.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 12;

    /// <summary>A message still failing this long after it was accepted is dead-lettered.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The longest a platform's retry-after may pause a channel, against absurd values.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxPause { get; set; } = TimeSpan.FromHours(1);

    /// <summary>While messages are pending a reminder re-activates the channel after a silo failure this often.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Pending messages per channel; beyond it enqueues are refused (backpressure), never dropped.</summary>
    [Range(1, 100_000)]
    public int OutboxCapacity { get; set; } = 1_000;

    [Range(1, 10_000)]
    public int HistoryCapacity { get; set; } = 100;

    [Range(1, 100_000)]
    public int DeadLetterCapacity { get; set; } = 500;

    // Byte budgets, measured as StoredSize counts them (an upper bound on the stored JSON). With the defaults a channel's
    // state stays under 128 KiB and each pending message's record under 136 KiB, both far below what one Azure Table
    // entity holds (docs/architecture.md, "State budget").

    /// <summary>
    /// Pending messages per channel in stored bytes, held in the activation's memory (each is a record of its own, at most
    /// Outbox.MaxMessageBytes); beyond it enqueues are refused (backpressure), never dropped.
    /// </summary>
    [Range(256 * 1024, 64 * 1024 * 1024)]
    public int OutboxBudgetBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Dead letters in stored bytes; the oldest are dropped to make room (their final status stays in the history).</summary>
    [Range(16 * 1024, 256 * 1024)]
    public int DeadLetterBudgetBytes { get; set; } = 48 * 1024;

    /// <summary>Finished deliveries in stored bytes; the oldest are forgotten first. Delivery never waits on it.</summary>
    [Range(8 * 1024, 128 * 1024)]
    public int HistoryBudgetBytes { get; set; } = 24 * 1024;

    /// <summary>Remembered idempotency keys in stored bytes; the oldest are forgotten first, as when IdempotencyCapacity is reached.</summary>
    [Range(4 * 1024, 128 * 1024)]
    public int IdempotencyBudgetBytes { get; set; } = 24 * 1024;

    /// <summary>Platform messages one notification may become (RenderLimits.MaxChunks); more is refused at enqueue.</summary>
    [Range(1, 500)]
    public int MaxChunksPerMessage { get; set; } = 50;

    /// <summary>How many times its own length a notification's rendered text may be (RenderLimits.MaxExpansion).</summary>
    [Range(1, 100)]
    public int MaxRenderExpansion { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Idempotency keys remembered per channel; the oldest go first when full.</summary>
    [Range(1, 100_000)]
    public int IdempotencyCapacity { get; set; } = 1_000;

    /// <summary>Consecutive failures after which a channel reports Failing.</summary>
    [Range(1, 1_000)]
    public int FailingAfter { get; set; } = 3;

    /// <summary>Consecutive dead-destination answers after which a channel disables itself (protects our egress IP).</summary>
    [Range(1, 1_000)]
    public int AutoDisableAfter { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
