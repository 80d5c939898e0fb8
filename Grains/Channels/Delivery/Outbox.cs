namespace Dovecote.Grains.Channels.Delivery;

/// <summary>
/// The delivery rules of one channel, over its stored state: what an accept, a send outcome or a redrive does to the
/// outbox, the retry budget, the 429 pause, the dead letters, the history and the channel's health. Plain and
/// deterministic: the clock is an argument and the jitter a <see cref="Random"/>. The grain persists, schedules and sends.
/// </summary>
public sealed class Outbox(ChannelState state, string channelId, DeliveryOptions options, Random jitter)
{
    /// <summary>Platform errors may be as long as the 16 KiB of body we read; each stored copy is clipped to this.</summary>
    public const int MaxStoredErrorLength = 500;

    /// <summary>
    /// One message as stored (<see cref="StoredSize"/>) when accepted: a 32,000-character CJK message (96 KB) fits, and its
    /// record, grown by delivery (message ids, an error: under 8 KiB), stays far below one Azure Table entity.
    /// </summary>
    public const int MaxMessageBytes = 128 * 1024;

    /// <summary>
    /// Dedupes on the idempotency key and appends; the caller persists the state before acknowledging.
    /// <paramref name="renderProblem"/> renders the message for the channel's platform and says why it cannot be, so a
    /// message that would fail every attempt is refused now rather than accepted and dead-lettered later.
    /// With <paramref name="stillWriting"/> (the sequences whose records are being written) the key joins
    /// <see cref="ChannelState.RecentKeys"/> only at <see cref="Remember"/>, once the message is durable: a channel-state
    /// write meanwhile must not store the key of a message whose record may still fail. Until then that message dedupes it.
    /// </summary>
    public EnqueueResult Accept(
        Notification notification, string? idempotencyKey, DateTimeOffset now, Func<Notification, string?>? renderProblem = null,
        Func<long, bool>? stillWriting = null)
    {
        if (!state.Configured)
            return EnqueueResult.Reject(EnqueueRejection.ChannelNotFound, $"channel '{channelId}' does not exist");
        if (!state.Enabled)
            return EnqueueResult.Reject(EnqueueRejection.ChannelDisabled, $"channel '{channelId}' is disabled: {state.DisabledReason}");
        if (notification.Validate() is { } problem)
            return EnqueueResult.Reject(EnqueueRejection.InvalidMessage, problem);
        if (Notification.ValidateIdempotencyKey(idempotencyKey) is { } keyProblem)
            return EnqueueResult.Reject(EnqueueRejection.InvalidMessage, keyProblem);

        state.RecentKeys.RemoveAll(k => now - k.At > options.IdempotencyWindow);
        if (idempotencyKey is not null && state.RecentKeys.Find(k => k.Key == idempotencyKey) is { } seen)
            return EnqueueResult.Accept(seen.DeliveryId, duplicate: true);
        if (idempotencyKey is not null && stillWriting is not null
            && state.Outbox.Find(m => m.IdempotencyKey == idempotencyKey && stillWriting(m.Sequence)) is { } pending)
            return EnqueueResult.Accept(pending.DeliveryId, duplicate: true);
        if (state.Outbox.Count >= options.OutboxCapacity)
            return EnqueueResult.Reject(EnqueueRejection.OutboxFull, $"channel '{channelId}' has {state.Outbox.Count} messages pending; retry later");

        var message = new OutboxMessage
        {
            DeliveryId = $"{channelId}:{Guid.CreateVersion7(now):N}",
            Notification = notification,
            AcceptedAt = now,
            UpdatedAt = now,
            IdempotencyKey = idempotencyKey,
        };
        if (BudgetProblem(message) is { } budget) return budget;
        if (renderProblem?.Invoke(notification) is { } unrenderable)
            return EnqueueResult.Reject(EnqueueRejection.InvalidMessage, unrenderable);
        message.Sequence = state.NextSequence++;
        state.Outbox.Add(message);
        if (stillWriting is null) Remember(message);
        return EnqueueResult.Accept(message.DeliveryId, duplicate: false);
    }

    /// <summary>Adds an accepted message's idempotency key to the window, evicting the oldest past the budgets.</summary>
    public void Remember(OutboxMessage message)
    {
        if (message.IdempotencyKey is not { } key || state.RecentKeys.Exists(k => k.Key == key)) return;
        state.RecentKeys.Add(new IdempotencyEntry(key, message.DeliveryId, message.AcceptedAt));
        EvictOldest(state.RecentKeys, options.IdempotencyCapacity, options.IdempotencyBudgetBytes, StoredSize.Of);
    }

    /// <summary>The message being delivered; only valid while <see cref="WaitBeforeNext"/> is not null.</summary>
    public OutboxMessage Head => state.Outbox[0];

    /// <summary>How long until the head message may be sent: zero for now, null when there is nothing to send.</summary>
    public TimeSpan? WaitBeforeNext(DateTimeOffset now)
    {
        if (!state.Configured || !state.Enabled || state.Outbox.Count == 0) return null;
        if (state.PausedUntil > now) return state.PausedUntil - now;
        return Head.NextAttemptAt > now ? Head.NextAttemptAt - now : TimeSpan.Zero;
    }

    /// <summary>Counts a send that decides nothing by itself: the plain-text resend, or following a migrated chat.</summary>
    public static void CountAttempt(OutboxMessage message, DateTimeOffset now)
    {
        message.Attempts++;
        message.UpdatedAt = now;
    }

    /// <summary>Applies what one send of the message's next chunk (of <paramref name="chunkCount"/>) came to.</summary>
    public Applied Apply(OutboxMessage message, SendOutcome outcome, int chunkCount, DateTimeOffset now)
    {
        CountAttempt(message, now);
        switch (outcome.Kind)
        {
            case OutcomeKind.Delivered:
                if (outcome.MessageId is not null) message.MessageIds.Add(outcome.MessageId);
                message.ChunksSent++;
                message.LastError = null;
                state.ConsecutiveFailures = state.ConsecutiveDeadDestinations = 0;
                state.LastError = null;
                if (outcome.RetryAfter is { } pause) Pause(now, pause); // the platform said "slow down" on a success
                if (message.ChunksSent < chunkCount) return new(OutboxStep.Sending);
                Finish(message, DeliveryState.Delivered);
                return new(OutboxStep.Delivered);

            case OutcomeKind.RateLimited:
                // Not the message's fault: the channel waits, and the retry budget is untouched.
                message.LastError = Clip(outcome.Error);
                Pause(now, outcome.RetryAfter ?? TimeSpan.FromSeconds(1));
                return new(OutboxStep.Paused);

            case OutcomeKind.Retryable or OutcomeKind.ChatMigrated:
                message.Failures++;
                message.LastError = state.LastError = Clip(outcome.Error);
                state.ConsecutiveFailures++;
                if (message.Failures >= options.MaxAttempts || now - message.AcceptedAt >= options.MaxAge)
                    return DeadLetter(message, $"gave up after {message.Failures} failed attempts: {outcome.Error}");
                message.NextAttemptAt = now + Backoff(message.Failures, outcome.RetryAfter);
                return new(OutboxStep.Retrying);

            case OutcomeKind.DeadDestination:
                state.ConsecutiveFailures++;
                state.ConsecutiveDeadDestinations++;
                state.LastError = Clip(outcome.Error);
                var applied = DeadLetter(message, outcome.Error);
                if (!outcome.DisableChannel && state.ConsecutiveDeadDestinations < options.AutoDisableAfter) return applied;
                // Keeps us from hammering a destination that refuses us (and from getting our egress address banned).
                state.Enabled = false;
                state.DisabledReason = Clip($"the destination refused delivery: {outcome.Error}");
                return applied with { DisabledChannel = true };

            default:
                return DeadLetter(message, outcome.Error);
        }
    }

    /// <summary>
    /// Gives up on a message that threw instead of producing an outcome (it cannot be rendered any more, or its sender
    /// failed): one message must never block the channel, so it is dead-lettered with the reason and the next one goes.
    /// </summary>
    public Applied Abandon(OutboxMessage message, string reason, DateTimeOffset now)
    {
        message.UpdatedAt = now;
        return DeadLetter(message, reason);
    }

    /// <summary>Queues dead letters again (one, or all when <paramref name="deliveryId"/> is null) with a fresh retry budget.</summary>
    public int Redrive(string? deliveryId, DateTimeOffset now)
    {
        var chosen = state.DeadLetters.Where(m => deliveryId is null || m.DeliveryId == deliveryId).ToList();
        foreach (var message in chosen)
        {
            state.DeadLetters.Remove(message);
            message.Failures = 0;
            message.NextAttemptAt = null;
            message.UpdatedAt = now;
            state.History.RemoveAll(h => h.DeliveryId == message.DeliveryId);
            message.Sequence = state.NextSequence++; // a record of its own, after everything pending
            message.QueuedSize = 0; // it grew as a head since last measured
            state.Outbox.Add(message);
        }
        return chosen.Count;
    }

    /// <summary>An operator's switch: enabling clears the failure streaks and the reason; disabling keeps the first reason.</summary>
    public void SetEnabled(bool enabled)
    {
        var wasEnabled = state.Enabled;
        state.Enabled = enabled;
        if (enabled && !wasEnabled)
        {
            state.DisabledReason = null;
            state.ConsecutiveFailures = state.ConsecutiveDeadDestinations = 0;
        }
        else if (!enabled)
        {
            state.DisabledReason ??= "disabled by an operator";
        }
    }

    /// <summary>Disables the channel for a reason found elsewhere (its credential was refused to another channel); pending messages wait.</summary>
    public void Disable(string reason)
    {
        state.Enabled = false;
        state.DisabledReason = state.LastError = Clip(reason);
    }

    /// <summary>Every pending message starts again from its first chunk (the chunks differ between platforms).</summary>
    public void RestartAll()
    {
        foreach (var message in state.Outbox) Restart(message);
    }

    public static void Restart(OutboxMessage message)
    {
        message.ChunksSent = 0;
        message.MessageIds.Clear();
    }

    public ChannelHealth Health(DateTimeOffset now) =>
        !state.Enabled ? ChannelHealth.Disabled
        : state.ConsecutiveFailures >= options.FailingAfter ? ChannelHealth.Failing
        : state.ConsecutiveFailures > 0 || PausedUntil(now) is not null ? ChannelHealth.Degraded
        : ChannelHealth.Healthy;

    /// <summary>Until when a platform's 429 holds the channel, or null when it does not.</summary>
    public DateTimeOffset? PausedUntil(DateTimeOffset now) => state.PausedUntil > now ? state.PausedUntil : null;

    /// <summary>A pending, recent or dead-lettered delivery; null when unknown or aged out of history.</summary>
    public DeliveryStatus? Find(string deliveryId)
    {
        if (state.Outbox.Find(m => m.DeliveryId == deliveryId) is { } pending)
            return Status(pending, pending.Failures > 0 || pending.LastError is not null ? DeliveryState.Retrying : DeliveryState.Queued);
        if (state.DeadLetters.Find(m => m.DeliveryId == deliveryId) is { } dead)
            return Status(dead, DeliveryState.Failed);
        return state.History.FindLast(h => h.DeliveryId == deliveryId);
    }

    public IReadOnlyList<DeliveryStatus> DeadLetters() => state.DeadLetters.Select(m => Status(m, DeliveryState.Failed)).ToList();

    /// <summary>The first pending messages (as many as the history holds), then finished ones newest first: what the console lists.</summary>
    public IReadOnlyList<DeliveryStatus> Recent() =>
        state.Outbox.Take(options.HistoryCapacity).Select(m => Status(m, m.Failures > 0 || m.LastError is not null ? DeliveryState.Retrying : DeliveryState.Queued))
            .Concat(Enumerable.Reverse(state.History)).ToList();

    /// <summary>A platform's "wait this long", cut to MaxPause against absurd values.</summary>
    public TimeSpan ClampPause(TimeSpan pause) => pause > options.MaxPause ? options.MaxPause : pause;

    private void Pause(DateTimeOffset now, TimeSpan pause)
    {
        var until = now + ClampPause(pause);
        if (until > state.PausedUntil.GetValueOrDefault()) state.PausedUntil = until;
    }

    /// <summary>Exponential with "equal jitter": at least half the step, so retries spread without collapsing to zero.</summary>
    private TimeSpan Backoff(int failures, TimeSpan? retryAfter)
    {
        var step = options.InitialBackoff * Math.Pow(2, Math.Min(failures - 1, 30));
        if (step > options.MaxBackoff) step = options.MaxBackoff;
        var jittered = step / 2 + step / 2 * jitter.NextDouble();
        // A 5xx's Retry-After is the platform's wish, not an order: a far-future one must not park the head message for a day.
        var asked = retryAfter > options.MaxPause ? options.MaxPause : retryAfter;
        return asked > jittered ? asked.Value : jittered;
    }

    private Applied DeadLetter(OutboxMessage message, string? error)
    {
        message.LastError = Clip(error);
        message.NextAttemptAt = null;
        state.DeadLetters.Add(message);
        // By count and by bytes; a dead letter bigger than the whole budget goes too, and its final status stays in the history.
        var dropped = EvictOldest(state.DeadLetters, options.DeadLetterCapacity, options.DeadLetterBudgetBytes, StoredSize.Of, keepNewest: false)
            .Select(m => m.DeliveryId).ToList();
        Finish(message, DeliveryState.Failed);
        return new(OutboxStep.DeadLettered) { DroppedDeadLetters = dropped };
    }

    private void Finish(OutboxMessage message, DeliveryState final)
    {
        state.Outbox.Remove(message);
        state.HeadSequence = state.Outbox.Count > 0 ? state.Outbox[0].Sequence : state.NextSequence;
        state.History.Add(Status(message, final));
        EvictOldest(state.History, options.HistoryCapacity, options.HistoryBudgetBytes, StoredSize.Of);
    }

    /// <summary>
    /// Takes the pending messages read from their records (in sequence order) as the outbox, on activation. Their
    /// idempotency keys rejoin the window (accepts after the last channel-state write stored them only there), and a
    /// message that is also a dead letter (a redrive interrupted before its channel-state write) stays pending only.
    /// </summary>
    public void Resume(IReadOnlyList<OutboxMessage> pending)
    {
        state.Outbox = [.. pending];
        foreach (var message in pending)
        {
            if (state.DeadLetters.RemoveAll(d => d.DeliveryId == message.DeliveryId) > 0)
                state.History.RemoveAll(h => h.DeliveryId == message.DeliveryId);
            if (message.IdempotencyKey is { } key && !state.RecentKeys.Exists(k => k.Key == key))
                state.RecentKeys.Add(new IdempotencyEntry(key, message.DeliveryId, message.AcceptedAt));
            if (message.Sequence >= state.NextSequence) state.NextSequence = message.Sequence + 1;
        }
        state.RecentKeys.Sort((a, b) => a.At.CompareTo(b.At));
        state.HeadSequence = pending.Count > 0 ? pending[0].Sequence : state.NextSequence;
    }

    /// <summary>
    /// The pending messages a channel state from before the paged outbox holds, numbered from its NextSequence as their
    /// records will be: the same numbers every time, so a migration interrupted and run again rewrites the same records.
    /// </summary>
    public IReadOnlyList<OutboxMessage> NumberLegacy()
    {
        var legacy = state.LegacyOutbox ?? [];
        for (var i = 0; i < legacy.Count; i++)
        {
            legacy[i].Sequence = state.NextSequence + i;
            var deliveryId = legacy[i].DeliveryId;
            legacy[i].IdempotencyKey ??= state.RecentKeys.Find(k => k.DeliveryId == deliveryId)?.Key;
        }
        return legacy;
    }

    /// <summary>After the legacy messages' records were written: the state no longer holds them.</summary>
    public void ForgetLegacy()
    {
        if (state.LegacyOutbox is { Count: > 0 } legacy) state.NextSequence += legacy.Count;
        state.LegacyOutbox = null;
    }

    /// <summary>Backpressure in bytes: null when the message fits a record and beside what is pending.</summary>
    private EnqueueResult? BudgetProblem(OutboxMessage message)
    {
        var budget = options.OutboxBudgetBytes;
        var size = StoredSize.Of(message);
        if (size > MaxMessageBytes)
            return EnqueueResult.Reject(EnqueueRejection.InvalidMessage,
                $"the message takes {size} bytes to store and one message may take {MaxMessageBytes}; shorten it "
                + "(text other than plain ASCII counts two to six bytes a character)");
        // Only the head changes while pending (attempts, chunks, errors); the others are measured once.
        var pending = state.Outbox.Count == 0 ? 0 : StoredSize.Of(state.Outbox[0]) + state.Outbox.Skip(1).Sum(QueuedSize);
        return pending + size > budget
            ? EnqueueResult.Reject(EnqueueRejection.OutboxFull,
                $"channel '{channelId}' is full: its {state.Outbox.Count} pending messages take {pending} of its {budget} bytes "
                + "(Delivery__OutboxBudgetBytes); retry later (backpressure)")
            : null;
    }

    private static long QueuedSize(OutboxMessage message) => message.QueuedSize > 0 ? message.QueuedSize : message.QueuedSize = StoredSize.Of(message);

    /// <summary>Drops the oldest entries until at most <paramref name="capacity"/> remain within <paramref name="budget"/> bytes.</summary>
    private static List<T> EvictOldest<T>(List<T> entries, int capacity, long budget, Func<T, long> size, bool keepNewest = true)
    {
        var total = entries.Sum(size);
        var evicted = 0;
        while (entries.Count - evicted > (keepNewest ? 1 : 0) && (entries.Count - evicted > capacity || total > budget))
            total -= size(entries[evicted++]);
        var dropped = entries.GetRange(0, evicted);
        entries.RemoveRange(0, evicted);
        return dropped;
    }

    private static string? Clip(string? error)
    {
        if (error is not { Length: > MaxStoredErrorLength }) return error;
        var cut = MaxStoredErrorLength - 3;
        if (char.IsHighSurrogate(error[cut - 1])) cut--; // never half a pair
        return string.Concat(error.AsSpan(0, cut), "...");
    }

    private DeliveryStatus Status(OutboxMessage m, DeliveryState deliveryState) =>
        new(m.DeliveryId, channelId, deliveryState, m.Attempts, m.LastError, m.MessageIds.ToList(), m.AcceptedAt, m.UpdatedAt,
            deliveryState is DeliveryState.Queued or DeliveryState.Retrying ? m.NextAttemptAt : null);
}

/// <summary>Where a message stands after one outcome was applied.</summary>
public enum OutboxStep
{
    /// <summary>A chunk went out and more remain.</summary>
    Sending,
    /// <summary>It failed and is tried again at its NextAttemptAt.</summary>
    Retrying,
    /// <summary>The platform's 429: the whole channel waits until its PausedUntil.</summary>
    Paused,
    Delivered,
    DeadLettered,
}

/// <summary>What applying one outcome did, so the grain can measure and log it and answer whoever waits on the delivery.</summary>
public readonly record struct Applied(OutboxStep Step)
{
    /// <summary>The destination refused us once too often (or for good), so the channel disabled itself.</summary>
    public bool DisabledChannel { get; init; }

    /// <summary>The oldest dead letters, dropped to make room for this one (by count or by bytes).</summary>
    public IReadOnlyList<string> DroppedDeadLetters { get; init; } = [];

    /// <summary>The delivery's final state when it left the outbox; null while it is still pending.</summary>
    public DeliveryState? Final => Step switch
    {
        OutboxStep.Delivered => DeliveryState.Delivered,
        OutboxStep.DeadLettered => DeliveryState.Failed,
        _ => null,
    };
}
