using System.Text.Json;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Security;
using Polly;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.Channels;

/// <summary>
/// One destination of one tenant: a durable outbox drained in order by a timer, paced by a token bucket,
/// paused whole by the platform's 429s, and kept alive across silo failures by a reminder while work is pending.
/// </summary>
[GrainType("channel")]
public sealed class ChannelGrain(
    [PersistentState("channel")] IPersistentState<ChannelState> state,
    ChannelSenders senders,
    SecretProtector secrets,
    OutboundAddressGuard addressGuard,
    IOptions<DeliveryOptions> deliveryOptions,
    DeliveryMetrics metrics,
    TimeProvider time,
    ILogger<ChannelGrain> logger) : Grain, IChannelGrain, IRemindable
{
    private const string DrainReminder = "drain";
    private readonly DeliveryOptions _options = deliveryOptions.Value;
    private readonly Dictionary<string, List<TaskCompletionSource>> _waiters = [];
    private ChannelSettings? _settings;
    private TokenBucket? _bucket;
    private ResiliencePipeline<HttpResponseMessage>? _pipeline;
    private IGrainTimer? _drainTimer;
    private bool _draining;
    /// <summary>Whether the drain reminder exists; null until we know (a fresh activation).</summary>
    private bool? _reminderRegistered;
    private Task _reminderSync = Task.CompletedTask;
    private (string DeliveryId, IReadOnlyList<RenderedChunk> Chunks)? _rendered;

    private string Key => this.GetPrimaryKeyString();
    private string ChannelId => GrainKeys.Split(Key).Id;
    private ChannelState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!S.Configured) return;
        LoadSettings();
        metrics.PendingChanged(S.Type, S.Outbox.Count);
        if (S.Outbox.Count > 0)
        {
            // We may be here because the silo that held us died: make sure the reminder exists, then resume.
            await this.RegisterOrUpdateReminder(DrainReminder, _options.ReminderPeriod, _options.ReminderPeriod);
            _reminderRegistered = true;
            ScheduleDrain(TimeSpan.Zero);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (S.Configured) metrics.PendingChanged(S.Type, -S.Outbox.Count);
        return Task.CompletedTask;
    }

    async Task<ChannelInfo> IChannelGrain.ConfigureAsync(ChannelConfig config)
    {
        var problem = config.Settings.Validate()
            ?? (string.IsNullOrWhiteSpace(config.Name) || config.Name.Length > 100 ? "name must be 1 to 100 characters" : null)
            ?? config.RateLimit?.Validate()
            ?? TargetProblem(config.Settings);
        if (problem is not null) throw new ArgumentException(problem);

        if (S.Configured && S.Type != config.Settings.Type)
        {
            foreach (var message in S.Outbox) ResetProgress(message); // chunks differ between platforms
            metrics.PendingChanged(S.Type, -S.Outbox.Count);
            metrics.PendingChanged(config.Settings.Type, S.Outbox.Count);
        }

        var wasEnabled = S.Enabled;
        S.Configured = true;
        S.Type = config.Settings.Type;
        S.Name = config.Name;
        S.Enabled = config.Enabled;
        S.RateLimit = config.RateLimit;
        S.ProtectedSettings = secrets.Protect(JsonSerializer.Serialize(config.Settings), Key);
        if (config.Enabled && !wasEnabled)
        {
            S.DisabledReason = null;
            S.ConsecutiveFailures = S.ConsecutiveDeadDestinations = 0;
        }
        else if (!config.Enabled)
        {
            S.DisabledReason ??= "disabled by an operator";
        }
        await state.WriteOrReloadAsync(this);
        LoadSettings();
        if (S.Outbox.Count > 0) ScheduleDrain(TimeSpan.Zero);
        logger.LogInformation("Channel {Channel} configured: {Type}, enabled {Enabled}", Key, S.Type, S.Enabled);
        return Info();
    }

    async Task IChannelGrain.DeleteAsync()
    {
        _drainTimer?.Dispose();
        _drainTimer = null;
        metrics.PendingChanged(S.Type, -S.Outbox.Count);
        await state.ClearStateAsync();
        _settings = null;
        await SyncReminderAsync();
        ReleaseAllWaiters();
        logger.LogInformation("Channel {Channel} deleted", Key);
        DeactivateOnIdle();
    }

    Task<ChannelInfo?> IChannelGrain.GetInfoAsync() => Task.FromResult(S.Configured ? Info() : null);

    async Task<EnqueueResult> IChannelGrain.EnqueueAsync(Notification notification, string? idempotencyKey)
    {
        if (!S.Configured)
            return EnqueueResult.Reject(EnqueueRejection.ChannelNotFound, $"channel '{ChannelId}' does not exist");
        if (!S.Enabled)
            return EnqueueResult.Reject(EnqueueRejection.ChannelDisabled, $"channel '{ChannelId}' is disabled: {S.DisabledReason}");
        if (notification.Validate() is { } problem)
            return EnqueueResult.Reject(EnqueueRejection.InvalidMessage, problem);
        if (idempotencyKey is { Length: 0 or > 200 })
            return EnqueueResult.Reject(EnqueueRejection.InvalidMessage, "idempotency_key must be 1 to 200 characters");

        var now = time.GetUtcNow();
        S.RecentKeys.RemoveAll(k => now - k.At > _options.IdempotencyWindow);
        if (idempotencyKey is not null && S.RecentKeys.Find(k => k.Key == idempotencyKey) is { } seen)
            return EnqueueResult.Accept(seen.DeliveryId, duplicate: true);
        if (S.Outbox.Count >= _options.OutboxCapacity)
            return EnqueueResult.Reject(EnqueueRejection.OutboxFull, $"channel '{ChannelId}' has {S.Outbox.Count} messages pending; retry later");

        var message = new OutboxMessage
        {
            DeliveryId = $"{ChannelId}:{Guid.CreateVersion7():N}",
            Notification = notification,
            AcceptedAt = now,
            UpdatedAt = now,
        };
        S.Outbox.Add(message);
        if (idempotencyKey is not null)
        {
            S.RecentKeys.Add(new IdempotencyEntry(idempotencyKey, message.DeliveryId, now));
            if (S.RecentKeys.Count > _options.IdempotencyCapacity) S.RecentKeys.RemoveAt(0);
        }

        // Acknowledged = durable: the state and the reminder that will resume delivery both exist before we answer.
        await Task.WhenAll(state.WriteOrReloadAsync(this), SyncReminderAsync());
        metrics.PendingChanged(S.Type, 1);
        ScheduleDrain(TimeSpan.Zero);
        return EnqueueResult.Accept(message.DeliveryId, duplicate: false);
    }

    Task<DeliveryStatus?> IChannelGrain.GetDeliveryAsync(string deliveryId) => Task.FromResult(Find(deliveryId));

    async Task<DeliveryStatus?> IChannelGrain.WaitForDeliveryAsync(string deliveryId, TimeSpan timeout)
    {
        if (Find(deliveryId) is not { State: DeliveryState.Queued or DeliveryState.Retrying } || timeout <= TimeSpan.Zero)
            return Find(deliveryId);

        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_waiters.TryGetValue(deliveryId, out var list)) _waiters[deliveryId] = list = [];
        list.Add(finished);
        try
        {
            await Task.WhenAny(finished.Task, Task.Delay(timeout, time));
        }
        finally
        {
            list.Remove(finished);
            if (list.Count == 0) _waiters.Remove(deliveryId);
        }
        return Find(deliveryId);
    }

    Task<IReadOnlyList<DeliveryStatus>> IChannelGrain.GetRecentDeliveriesAsync(int max) =>
        Task.FromResult<IReadOnlyList<DeliveryStatus>>(S.History.AsEnumerable().Reverse().Take(Math.Clamp(max, 0, _options.HistoryCapacity)).ToList());

    Task<IReadOnlyList<DeliveryStatus>> IChannelGrain.GetDeadLettersAsync() =>
        Task.FromResult<IReadOnlyList<DeliveryStatus>>(S.DeadLetters.Select(m => Status(m, DeliveryState.Failed)).ToList());

    async Task<int> IChannelGrain.RedriveAsync(string? deliveryId)
    {
        var chosen = S.DeadLetters.Where(m => deliveryId is null || m.DeliveryId == deliveryId).ToList();
        if (chosen.Count == 0) return 0;
        foreach (var message in chosen)
        {
            S.DeadLetters.Remove(message);
            message.Failures = 0;
            message.NextAttemptAt = null;
            message.UpdatedAt = time.GetUtcNow();
            S.History.RemoveAll(h => h.DeliveryId == message.DeliveryId);
            S.Outbox.Add(message);
        }
        await Task.WhenAll(state.WriteOrReloadAsync(this), SyncReminderAsync());
        metrics.PendingChanged(S.Type, chosen.Count);
        ScheduleDrain(TimeSpan.Zero);
        logger.LogInformation("Channel {Channel}: {Count} dead letters redriven", Key, chosen.Count);
        return chosen.Count;
    }

    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        // The reminder only guarantees we are active; the timer does the work.
        _reminderRegistered = true;
        if (S.Outbox.Count == 0 || !S.Configured) return SyncReminderAsync();
        ScheduleDrain(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    /// <summary>Asks the drain loop to run after <paramref name="delay"/>; a running loop picks up new work itself.</summary>
    private void ScheduleDrain(TimeSpan delay)
    {
        if (_draining || !S.Configured) return;
        if (_drainTimer is null)
        {
            // Interleaved, so enqueues are acknowledged while a send is in flight; KeepAlive while work is scheduled.
            _drainTimer = this.RegisterGrainTimer(DrainAsync, new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
        }
        else
        {
            _drainTimer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (_draining) return;
        _draining = true;
        TimeSpan? wait;
        try
        {
            do wait = await DeliverNextAsync(cancellationToken);
            while (wait == TimeSpan.Zero && !cancellationToken.IsCancellationRequested);
        }
        finally
        {
            _draining = false;
        }

        // An empty outbox keeps its reminder until the next tick removes it: bursts do not churn the reminder table.
        if (wait is { } delay) ScheduleDrain(delay);
    }

    /// <summary>Sends the next chunk of the head message. Null: nothing to do; otherwise how long to wait before the next try.</summary>
    private async Task<TimeSpan?> DeliverNextAsync(CancellationToken cancellationToken)
    {
        if (!S.Configured || !S.Enabled || S.Outbox.Count == 0 || _settings is null) return null;
        var now = time.GetUtcNow();
        if (S.PausedUntil > now) return S.PausedUntil - now;
        var message = S.Outbox[0];
        if (message.NextAttemptAt > now) return message.NextAttemptAt - now;
        var wait = _bucket!.TryTake();
        if (wait > TimeSpan.Zero) return wait;

        var sender = senders.For(S.Type);
        var chunks = Render(sender, message);
        var request = new SendRequest(message.DeliveryId, _settings, message.Notification, chunks[message.ChunksSent], AsPlainText: false, _pipeline!);
        var outcome = await sender.SendAsync(request, cancellationToken);
        if (outcome.Kind is OutcomeKind.MarkupRejected or OutcomeKind.TooLong)
        {
            logger.LogInformation("Delivery {Delivery}: {Error}; resending the chunk as plain text", message.DeliveryId, outcome.Error);
            message.Attempts++;
            outcome = await sender.SendAsync(request with { AsPlainText = true }, cancellationToken);
            if (outcome.Kind is OutcomeKind.MarkupRejected or OutcomeKind.TooLong) outcome = SendOutcome.Rejected(outcome.Error ?? "rejected");
        }

        // The channel may have been deleted or reconfigured while the send was in flight.
        if (!S.Configured || S.Outbox.Count == 0 || !ReferenceEquals(S.Outbox[0], message)) return TimeSpan.Zero;
        Apply(message, outcome, chunks.Count, time.GetUtcNow());
        await state.WriteOrReloadAsync(this);
        return TimeSpan.Zero;
    }

    private void Apply(OutboxMessage message, SendOutcome outcome, int chunkCount, DateTimeOffset now)
    {
        message.Attempts++;
        message.UpdatedAt = now;
        switch (outcome.Kind)
        {
            case OutcomeKind.Delivered:
                if (outcome.MessageId is not null) message.MessageIds.Add(outcome.MessageId);
                message.ChunksSent++;
                message.LastError = null;
                S.ConsecutiveFailures = S.ConsecutiveDeadDestinations = 0;
                S.LastError = null;
                if (outcome.RetryAfter is { } pause) Pause(now, pause);
                if (message.ChunksSent >= chunkCount) Finish(message, DeliveryState.Delivered);
                break;

            case OutcomeKind.RateLimited:
                message.LastError = outcome.Error;
                Pause(now, outcome.RetryAfter ?? TimeSpan.FromSeconds(1));
                metrics.Paused(S.Type);
                logger.LogInformation("Channel {Channel} rate limited until {Until}", Key, S.PausedUntil);
                break;

            case OutcomeKind.ChatMigrated when _settings is TelegramSettings telegram && outcome.MigrateToChatId is { } newChat:
                logger.LogInformation("Channel {Channel}: Telegram chat migrated to a supergroup; following it", Key);
                _settings = telegram with { ChatId = newChat };
                S.ProtectedSettings = secrets.Protect(JsonSerializer.Serialize(_settings), Key);
                _bucket = new TokenBucket(S.RateLimit ?? TokenBucket.DefaultFor(_settings), time);
                break;

            case OutcomeKind.Retryable or OutcomeKind.ChatMigrated:
                message.Failures++;
                message.LastError = S.LastError = outcome.Error;
                S.ConsecutiveFailures++;
                if (message.Failures >= _options.MaxAttempts || now - message.AcceptedAt >= _options.MaxAge)
                    DeadLetter(message, $"gave up after {message.Failures} failed attempts: {outcome.Error}");
                else
                {
                    message.NextAttemptAt = now + Backoff(message.Failures, outcome.RetryAfter);
                    metrics.Retried(S.Type);
                }
                break;

            case OutcomeKind.DeadDestination:
                S.ConsecutiveFailures++;
                S.ConsecutiveDeadDestinations++;
                S.LastError = outcome.Error;
                DeadLetter(message, outcome.Error);
                if (outcome.DisableChannel || S.ConsecutiveDeadDestinations >= _options.AutoDisableAfter)
                {
                    S.Enabled = false;
                    S.DisabledReason = $"the destination refused delivery: {outcome.Error}";
                    logger.LogWarning("Channel {Channel} disabled: {Error}", Key, outcome.Error);
                }
                break;

            default:
                DeadLetter(message, outcome.Error);
                break;
        }
    }

    private void Pause(DateTimeOffset now, TimeSpan pause)
    {
        var until = now + (pause > _options.MaxPause ? _options.MaxPause : pause);
        if (until > S.PausedUntil.GetValueOrDefault()) S.PausedUntil = until;
    }

    /// <summary>Exponential with "equal jitter": at least half the step, so retries spread without collapsing to zero.</summary>
    private TimeSpan Backoff(int failures, TimeSpan? retryAfter)
    {
        var step = _options.InitialBackoff * Math.Pow(2, Math.Min(failures - 1, 30));
        if (step > _options.MaxBackoff) step = _options.MaxBackoff;
        var jittered = step / 2 + step / 2 * Random.Shared.NextDouble();
        return retryAfter > jittered ? retryAfter.Value : jittered;
    }

    private void DeadLetter(OutboxMessage message, string? error)
    {
        message.LastError = error;
        message.NextAttemptAt = null;
        S.DeadLetters.Add(message);
        if (S.DeadLetters.Count > _options.DeadLetterCapacity)
        {
            logger.LogWarning("Channel {Channel}: dead-letter queue full; dropping the oldest ({Delivery})", Key, S.DeadLetters[0].DeliveryId);
            S.DeadLetters.RemoveAt(0);
        }
        logger.LogWarning("Delivery {Delivery} dead-lettered: {Error}", message.DeliveryId, error);
        Finish(message, DeliveryState.Failed);
    }

    private void Finish(OutboxMessage message, DeliveryState final)
    {
        S.Outbox.Remove(message);
        _rendered = null;
        metrics.PendingChanged(S.Type, -1);
        metrics.Finished(S.Type, final, time.GetUtcNow() - message.AcceptedAt);
        S.History.Add(Status(message, final));
        if (S.History.Count > _options.HistoryCapacity) S.History.RemoveAt(0);
        if (_waiters.Remove(message.DeliveryId, out var waiting))
            foreach (var waiter in waiting) waiter.TrySetResult();
    }

    private IReadOnlyList<RenderedChunk> Render(IChannelSender sender, OutboxMessage message)
    {
        if (_rendered is { } cached && cached.DeliveryId == message.DeliveryId) return cached.Chunks;
        var chunks = sender.Render(message.Notification);
        if (message.ChunksSent >= chunks.Count) ResetProgress(message);
        _rendered = (message.DeliveryId, chunks);
        return chunks;
    }

    private static void ResetProgress(OutboxMessage message)
    {
        message.ChunksSent = 0;
        message.MessageIds.Clear();
    }

    /// <summary>Keeps a reminder exactly while messages are pending. Serialized, so a late unregister never removes a newer registration.</summary>
    private Task SyncReminderAsync() => _reminderSync = SyncReminderAfterAsync(_reminderSync);

    private async Task SyncReminderAfterAsync(Task previous)
    {
        try { await previous; } catch { /* its caller saw the failure */ }
        var wanted = S.Configured && S.Outbox.Count > 0;
        if (wanted && _reminderRegistered != true)
        {
            await this.RegisterOrUpdateReminder(DrainReminder, _options.ReminderPeriod, _options.ReminderPeriod);
            _reminderRegistered = true;
        }
        else if (!wanted && _reminderRegistered != false)
        {
            if (await this.GetReminder(DrainReminder) is { } reminder) await this.UnregisterReminder(reminder);
            _reminderRegistered = false;
        }
    }

    private void LoadSettings()
    {
        _settings = JsonSerializer.Deserialize<ChannelSettings>(secrets.Unprotect(S.ProtectedSettings, Key))
            ?? throw new InvalidOperationException($"Channel {Key} has no settings.");
        _bucket = new TokenBucket(S.RateLimit ?? TokenBucket.DefaultFor(_settings), time);
        _pipeline ??= DeliveryHttp.CreatePipeline(_options, time);
    }

    private string? TargetProblem(ChannelSettings settings) => settings switch
    {
        DiscordSettings d => addressGuard.CheckUrl(d.WebhookUrl) is { } p ? $"webhookUrl {p}" : null,
        SlackSettings s => addressGuard.CheckUrl(s.WebhookUrl) is { } p ? $"webhookUrl {p}" : null,
        WebhookSettings w => addressGuard.CheckUrl(w.Url) is { } p ? $"url {p}" : null,
        _ => null,
    };

    private void ReleaseAllWaiters()
    {
        foreach (var waiter in _waiters.Values.SelectMany(w => w)) waiter.TrySetResult();
        _waiters.Clear();
    }

    private DeliveryStatus? Find(string deliveryId)
    {
        if (S.Outbox.Find(m => m.DeliveryId == deliveryId) is { } pending)
            return Status(pending, pending.Failures > 0 || pending.LastError is not null ? DeliveryState.Retrying : DeliveryState.Queued);
        if (S.DeadLetters.Find(m => m.DeliveryId == deliveryId) is { } dead)
            return Status(dead, DeliveryState.Failed);
        return S.History.FindLast(h => h.DeliveryId == deliveryId);
    }

    private DeliveryStatus Status(OutboxMessage m, DeliveryState deliveryState) =>
        new(m.DeliveryId, ChannelId, deliveryState, m.Attempts, m.LastError, m.MessageIds.ToList(), m.AcceptedAt, m.UpdatedAt,
            deliveryState is DeliveryState.Queued or DeliveryState.Retrying ? m.NextAttemptAt : null);

    private ChannelInfo Info()
    {
        var now = time.GetUtcNow();
        var paused = S.PausedUntil > now ? S.PausedUntil : null;
        var health = !S.Enabled ? ChannelHealth.Disabled
            : S.ConsecutiveFailures >= _options.FailingAfter ? ChannelHealth.Failing
            : S.ConsecutiveFailures > 0 || paused is not null ? ChannelHealth.Degraded
            : ChannelHealth.Healthy;
        return new ChannelInfo(ChannelId, S.Type, S.Name, S.Enabled, health, S.Outbox.Count, S.DeadLetters.Count, paused,
            S.Enabled ? S.LastError : S.DisabledReason ?? S.LastError, _settings!.Describe(), _bucket!.Policy);
    }
}
