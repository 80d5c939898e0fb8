using System.Text.Json;
using Dovecote.Grains.Budgets;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Interfaces.Budgets;
using Dovecote.Grains.Security;
using Dovecote.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Storage;
using Polly;

namespace Dovecote.Grains.Channels;

/// <summary>
/// One destination of one tenant: a durable outbox drained in order by a timer, paced by a token bucket,
/// paused whole by the platform's 429s, and kept alive across silo failures by a reminder while work is pending. Limits it
/// shares with other channels (a Telegram bot's rate, a Discord bucket, a platform's invalid answers) are <see cref="ChannelBudgets"/>'.
/// What each outcome does to the outbox is <see cref="Outbox"/>'s; this grain persists, schedules and sends.
/// Each pending message is a record of its own (<see cref="OutboxRecords"/>): an accept writes that record only, and a
/// finished message's record is cleared only after a channel state holding its outcome (and its idempotency key) was written.
/// Accepts interleave, so a hot channel's records share flushes; <see cref="AcceptGate"/> keeps them apart from configure,
/// delete and redrive, and the drain sends a message only once its record is durable, so delivery keeps sequence order.
/// </summary>
[GrainType("channel")]
public sealed class ChannelGrain(
    [PersistentState("channel")] IPersistentState<ChannelState> state,
    ChannelSenders senders,
    SecretProtector secrets,
    OutboundAddressGuard addressGuard,
    IOptions<DeliveryOptions> deliveryOptions,
    IOptions<BudgetOptions> budgetOptions,
    IOptions<ChannelBoardOptions> boardOptions,
    DeliveryMetrics metrics,
    BudgetMetrics budgetMetrics,
    TimeProvider time,
    ILogger<ChannelGrain> logger) : Grain, IChannelGrain, IBudgetHolderGrain, IRemindable
{
    private const string DrainReminder = "drain";

    /// <summary>The encrypted settings in stored bytes (<see cref="StoredSize"/>); a few URLs and a token are far below it. Part of the state budget.</summary>
    public const int MaxProtectedSettingsBytes = 8 * 1024;

    private readonly DeliveryOptions _options = deliveryOptions.Value;
    private readonly RenderLimits _limits = new(deliveryOptions.Value.MaxChunksPerMessage, deliveryOptions.Value.MaxRenderExpansion);
    private readonly Dictionary<string, List<TaskCompletionSource>> _waiters = [];
    private readonly AcceptGate _accepts = new();
    private ChannelSettings? _settings;
    private TokenBucket? _bucket;
    private ResiliencePipeline<HttpResponseMessage>? _pipeline;
    private IGrainTimer? _drainTimer;
    private bool _draining;
    /// <summary>
    /// A write failed, so memory may be ahead of storage (or another activation owns the channel): until the runtime
    /// drops this activation it serves nothing, so it never writes over records it did not read or skips ones it never saw.
    /// </summary>
    private bool _stale;
    /// <summary>Whether the drain reminder exists; null until we know (a fresh activation).</summary>
    private bool? _reminderRegistered;
    private Task _reminderSync = Task.CompletedTask;
    private (string DeliveryId, IReadOnlyList<RenderedChunk> Chunks)? _rendered;
    private OutboxRecords _records = null!;
    private ChannelBudgets _budgets = null!;
    private ChannelBoardReporter _board = null!;

    private string Key => this.GetPrimaryKeyString();
    private string ChannelId => GrainKeys.Split(Key).Id;
    /// <summary>Over whatever the state is now: clearing it replaces the object.</summary>
    private Outbox Outbox => new(state.State, ChannelId, _options, Random.Shared);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The storage [PersistentState] uses, under this grain's id: records live and move with the channel's state.
        _records = new OutboxRecords(ServiceProvider.GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME),
            this.GetGrainId());
        _budgets = new ChannelBudgets(GrainFactory, this.GetGrainId(), budgetOptions.Value, budgetMetrics, time);
        _board = new ChannelBoardReporter(this, GrainFactory, GrainKeys.Split(Key).Tenant, ChannelId, BoardView,
            boardOptions.Value.PendingInterval, time, logger);
        if (!state.State.Configured) return;
        await MigrateLegacyOutboxAsync();
        var channel = state.State;
        // Records whose clear was cut short: the channel state past them was written first, so they are finished.
        for (var orphan = channel.HeadSequence - 1; orphan >= 0 && await _records.ReadAsync(orphan) is not null; orphan--)
            await _records.ClearAsync(orphan);
        // Overlapping accepts may have left gaps (a failed write) below the stored window: every sequence below it is read.
        var windowEnd = await _records.ReadWindowAsync();
        Outbox.Resume(await _records.LoadAsync(channel.HeadSequence, Math.Max(channel.NextSequence, windowEnd)));
        LoadSettings();
        await JoinBudgetsAsync();
        metrics.PendingChanged(state.State.Type, state.State.Outbox.Count);
        _board.Changed(); // after a silo loss the board may hold what the lost activation had not told it yet
        if (state.State.Outbox.Count > 0)
        {
            // We may be here because the silo that held us died: make sure the reminder exists, then resume.
            await this.RegisterOrUpdateReminder(DrainReminder, _options.ReminderPeriod, _options.ReminderPeriod);
            _reminderRegistered = true;
            ScheduleDrain(TimeSpan.Zero);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (state.State.Configured) metrics.PendingChanged(state.State.Type, -state.State.Outbox.Count);
        // A silo shutting down takes the in-memory board with it (the next one rebuilds it from the channels): a last update
        // would only fail to find it.
        if (reason.ReasonCode != DeactivationReasonCode.ShuttingDown) _board.Flush();
        await ShareAsync(_budgets.ReleaseAsync(), "giving back its unused send slots");
    }

    async Task<ChannelInfo> IChannelGrain.ConfigureAsync(ChannelConfig config)
    {
        using var exclusive = await _accepts.ExclusiveAsync();
        ThrowIfStale();
        if (config.KeepUnsetSecrets) config = config with { Settings = config.Settings.WithUnsetSecretsFrom(_settings) };
        var problem = config.Settings.Validate()
            ?? (string.IsNullOrWhiteSpace(config.Name) || config.Name.Length > 100 ? "name must be 1 to 100 characters" : null)
            ?? config.RateLimit?.Validate()
            ?? TargetProblem(config.Settings);
        if (problem is not null) throw new ArgumentException(problem);

        var channel = state.State;
        if (channel.Configured && channel.Type != config.Settings.Type)
        {
            Outbox.RestartAll();
            _rendered = null; // rendered for the old platform
            metrics.PendingChanged(channel.Type, -channel.Outbox.Count);
            metrics.PendingChanged(config.Settings.Type, channel.Outbox.Count);
            // Records first: a crash before the state write resends chunks on the old platform rather than skipping any.
            await DurablyAsync(Task.WhenAll(channel.Outbox.Select(_records.WriteAsync)));
        }

        channel.Configured = true;
        channel.Type = config.Settings.Type;
        channel.Name = config.Name;
        channel.RateLimit = config.RateLimit;
        var protectedSettings = secrets.Protect(JsonSerializer.Serialize(config.Settings), Key);
        if (StoredSize.Of(protectedSettings) > MaxProtectedSettingsBytes)
            throw new ArgumentException($"the settings are too large to store (at most {MaxProtectedSettingsBytes} bytes once encrypted)");
        channel.ProtectedSettings = protectedSettings;
        channel.SettingsChangedAt = time.GetUtcNow();
        Outbox.SetEnabled(config.Enabled);
        await DurablyAsync(state.WriteStateAsync());
        LoadSettings();
        await JoinBudgetsAsync();
        if (channel.Outbox.Count > 0) ScheduleDrain(TimeSpan.Zero);
        logger.LogInformation("Channel {Channel} configured: {Type}, enabled {Enabled}", Key, channel.Type, channel.Enabled);
        _board.Changed();
        return Info();
    }

    async Task IChannelGrain.DeleteAsync()
    {
        using var exclusive = await _accepts.ExclusiveAsync();
        ThrowIfStale();
        _drainTimer?.Dispose();
        _drainTimer = null;
        metrics.PendingChanged(state.State.Type, -state.State.Outbox.Count);
        // Records first: a state cleared before them would let a channel created again under this id find them.
        var sequences = state.State.Outbox.Select(m => m.Sequence).Append(state.State.HeadSequence - 1).Where(q => q >= 0).ToList();
        await DurablyAsync(Task.WhenAll(sequences.Select(_records.ClearAsync)));
        await DurablyAsync(_records.ClearWindowAsync());
        await state.ClearStateAsync();
        _settings = null;
        _board.Changed();
        await SyncReminderAsync();
        foreach (var waiter in _waiters.Values.SelectMany(w => w)) waiter.TrySetResult();
        _waiters.Clear();
        logger.LogInformation("Channel {Channel} deleted", Key);
        DeactivateOnIdle();
    }

    Task<ChannelInfo?> IChannelGrain.GetInfoAsync() => Task.FromResult(state.State.Configured ? Info() : null);

    Task<ChannelBoardUpdate> IChannelGrain.GetBoardEntryAsync() => Task.FromResult(_board.Current());

    async Task<EnqueueResult> IChannelGrain.EnqueueAsync(Notification notification, string? idempotencyKey)
    {
        await _accepts.EnterAcceptAsync();
        try
        {
            return await AcceptAsync(notification, idempotencyKey);
        }
        finally
        {
            _accepts.ExitAccept();
        }
    }

    /// <summary>One accept; others of this channel may be between their turns (writing their records) meanwhile.</summary>
    private async Task<EnqueueResult> AcceptAsync(Notification notification, string? idempotencyKey)
    {
        ThrowIfStale();
        // Rendered now, so a message no attempt could send is refused with the reason instead of acknowledged.
        IReadOnlyList<RenderedChunk>? chunks = null;
        var sender = state.State.Configured ? senders.For(state.State.Type) : null;
        var result = Outbox.Accept(notification, idempotencyKey, time.GetUtcNow(), n => RenderProblem(sender!, n, out chunks), _records.IsAccepting);
        if (!result.Accepted) return result;
        if (result.Duplicate)
        {
            // The first accept of this key may still be writing: its caller's answer and ours wait for the same record.
            if (state.State.Outbox.Find(m => m.DeliveryId == result.DeliveryId) is { } first) await _records.AcceptedAsync(first.Sequence);
            return result;
        }
        var message = state.State.Outbox[^1];
        if (chunks is not null && state.State.Outbox.Count == 1) _rendered = (result.DeliveryId!, chunks); // it is the head: sent next

        // Acknowledged = durable: the message's record (with its idempotency key) and the reminder that will resume delivery
        // both exist before we answer. The channel state is not written: its NextSequence and RecentKeys catch up with its
        // next write (the key only once the record is durable), and activation finds records past its NextSequence.
        try
        {
            // Its key joins the stored window only once the record is durable, with no turn between in which neither dedupes it.
            await Task.WhenAll(_records.InsertAcceptedAsync(message, Outbox.Remember), SyncReminderAsync());
        }
        catch (Exception e)
        {
            // Not acknowledged, so not sent by this activation either; the next one reloads whatever was really stored.
            // Accepts overlapping this one may still be acknowledged: the window lets the next activation find them past the gap.
            state.State.Outbox.Remove(message);
            _stale = true;
            DeactivateOnIdle();
            if (e is InconsistentStateException conflict)
                throw new InconsistentStateException(
                    $"Channel {Key}: outbox record {message.Sequence} was written by another activation of this channel; nothing was accepted, "
                    + "retry the call", conflict.StoredEtag, conflict.CurrentEtag, conflict);
            throw;
        }
        metrics.PendingChanged(state.State.Type, 1);
        _board.PendingChanged();
        ScheduleDrain(TimeSpan.Zero);
        return result;
    }

    Task<DeliveryStatus?> IChannelGrain.GetDeliveryAsync(string deliveryId) => Task.FromResult(Outbox.Find(deliveryId));

    async Task<DeliveryStatus?> IChannelGrain.WaitForDeliveryAsync(string deliveryId, TimeSpan timeout)
    {
        if (Outbox.Find(deliveryId) is not { State: DeliveryState.Queued or DeliveryState.Retrying } || timeout <= TimeSpan.Zero)
            return Outbox.Find(deliveryId);

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
        return Outbox.Find(deliveryId);
    }

    Task<IReadOnlyList<DeliveryStatus>> IChannelGrain.GetDeadLettersAsync() => Task.FromResult(Outbox.DeadLetters());

    Task<IReadOnlyList<DeliveryStatus>> IChannelGrain.GetRecentDeliveriesAsync() => Task.FromResult(Outbox.Recent());

    async Task<int> IChannelGrain.RedriveAsync(string? deliveryId)
    {
        using var exclusive = await _accepts.ExclusiveAsync();
        ThrowIfStale();
        var first = state.State.NextSequence;
        var count = Outbox.Redrive(deliveryId, time.GetUtcNow());
        if (count == 0) return 0;
        // Records first: a crash before the state write leaves them pending and still dead letters, which activation resolves.
        await DurablyAsync(Task.WhenAll(state.State.Outbox.Where(m => m.Sequence >= first).Select(_records.InsertAsync)));
        await DurablyAsync(Task.WhenAll(state.WriteStateAsync(), SyncReminderAsync()));
        metrics.PendingChanged(state.State.Type, count);
        _board.Changed();
        ScheduleDrain(TimeSpan.Zero);
        logger.LogInformation("Channel {Channel}: {Count} dead letters redriven", Key, count);
        return count;
    }

    Task IBudgetHolderGrain.BudgetPausedAsync(string budgetKey, DateTimeOffset until)
    {
        _budgets.Paused(budgetKey, until);
        _board.Changed();
        return Task.CompletedTask;
    }

    async Task IBudgetHolderGrain.CredentialRejectedAsync(string budgetKey, string reason, DateTimeOffset at)
    {
        // A channel configured since may carry a fixed token; it finds out on its own next attempt.
        var channel = state.State;
        if (_stale || !channel.Configured || !channel.Enabled || _budgets.Key != budgetKey || channel.SettingsChangedAt > at) return;
        await DisableForRefusedCredentialAsync(reason);
    }

    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        // The reminder only guarantees we are active; the timer does the work.
        _reminderRegistered = true;
        if (state.State.Outbox.Count == 0 || !state.State.Configured) return SyncReminderAsync();
        ScheduleDrain(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    /// <summary>Asks the drain loop to run after <paramref name="delay"/>; a running loop picks up new work itself.</summary>
    private void ScheduleDrain(TimeSpan delay)
    {
        if (_draining || !state.State.Configured) return;
        if (_drainTimer is null)
        {
            // Interleaved, so enqueues are acknowledged while a send is in flight; KeepAlive while work is scheduled.
            _drainTimer = this.RegisterGrainTimer(
                DrainAsync,
                new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
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
        catch (Exception e)
        {
            // A failed state write (the activation then reloads) must not leave the outbox without a drain: try again later.
            wait = cancellationToken.IsCancellationRequested ? null : _options.InitialBackoff;
            if (wait is not null) logger.LogError(e, "Channel {Channel}: the drain failed; retrying in {Delay}", Key, wait);
        }
        finally
        {
            _draining = false;
        }

        // An empty outbox keeps its reminder until the next tick removes it: bursts do not churn the reminder table.
        if (wait is { } delay) ScheduleDrain(delay);
        else await ShareAsync(_budgets.ReleaseAsync(), "giving back its unused send slots");
    }

    /// <summary>Sends the next chunk of the head message. Null: nothing to do; otherwise how long to wait before the next try.</summary>
    private async Task<TimeSpan?> DeliverNextAsync(CancellationToken cancellationToken)
    {
        if (_stale || _settings is null || Outbox.WaitBeforeNext(time.GetUtcNow()) is not { } due) return null;
        // Its accept is still writing the record: not acknowledged yet, so not sent. That accept schedules the drain when done.
        if (_records.IsAccepting(Outbox.Head.Sequence)) return Timeout.InfiniteTimeSpan;
        if (due > TimeSpan.Zero) return due;
        var shared = await _budgets.ReadyAsync(state.State.Outbox.Count, _bucket!.Interval, state.State.SettingsChangedAt);
        if (shared.RevokedReason is { } refused)
        {
            await DisableForRefusedCredentialAsync(refused);
            return null;
        }
        if (shared.Wait > TimeSpan.Zero) return shared.Wait;
        // The budget was asked across an await: a reconfigure, delete or failed write may have come in meanwhile.
        if (_stale || _settings is null || Outbox.WaitBeforeNext(time.GetUtcNow()) != TimeSpan.Zero) return TimeSpan.Zero;
        var wait = _bucket!.TryTake();
        if (wait > TimeSpan.Zero) return wait;
        _budgets.Take();

        var message = Outbox.Head;
        var channelWideBefore = ChannelWide();
        var sender = senders.For(state.State.Type);
        IReadOnlyList<RenderedChunk>? chunks = null;
        SendOutcome? outcome = null;
        string? failure = null;
        try
        {
            chunks = Render(sender, message);
            outcome = await SendChunkAsync(sender, message, chunks[message.ChunksSent], cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // One message must never block a channel: whatever it throws, it is dead-lettered and the next one goes.
            failure = e is NotificationRenderException ? e.Message : $"{(chunks is null ? "rendering" : "sending")} failed unexpectedly ({e.GetType().Name})";
            logger.LogError(e, "Delivery {Delivery}: {Failure}; dead-lettering it so the channel moves on", message.DeliveryId, failure);
        }

        if (outcome is not null) await ShareAsync(ShareOutcomeAsync(outcome), "sharing an answer with its budgets");
        // The channel may have been deleted or reconfigured while the send was in flight.
        if (_stale) return null;
        if (!state.State.Configured || state.State.Outbox.Count == 0 || !ReferenceEquals(Outbox.Head, message)) return TimeSpan.Zero;
        var now = time.GetUtcNow();
        Applied? applied = null;
        if (outcome is null)
        {
            applied = Outbox.Abandon(message, failure!, now);
        }
        else if (outcome is { Kind: OutcomeKind.ChatMigrated, MigrateToChatId: { } newChat } && _settings is TelegramSettings telegram)
        {
            FollowMigration(telegram with { ChatId = newChat });
            Outbox.CountAttempt(message, now);
        }
        else
        {
            applied = Outbox.Apply(message, outcome, chunks!.Count, now);
        }
        if (applied is { } step) Report(message, step);

        if (applied?.Final is not null)
        {
            // The outcome (history, dead letter, the advanced HeadSequence) is durable before the record goes. The drain
            // does not wait for the clear: it shares the next write's flush, and activation finishes one cut short.
            await DurablyAsync(state.WriteStateAsync());
            _ = ClearFinishedAsync(message.Sequence);
        }
        else
        {
            var writeState = ChannelWide() != channelWideBefore;
            await DurablyAsync(Task.WhenAll(_records.WriteAsync(message), writeState ? state.WriteStateAsync() : Task.CompletedTask));
        }
        return TimeSpan.Zero;
    }

    /// <summary>The shared budget saw this channel's credential refused to another channel: stop before using it again.</summary>
    private async Task DisableForRefusedCredentialAsync(string reason)
    {
        Outbox.Disable($"the platform refused this channel's credential for another channel using it: {reason}");
        await DurablyAsync(state.WriteStateAsync());
        _board.Changed();
        logger.LogWarning("Channel {Channel} disabled: {Error}", Key, state.State.DisabledReason);
    }

    /// <summary>What one answer tells the limits this channel shares (the pause is the one its own outbox takes).</summary>
    private Task ShareOutcomeAsync(SendOutcome outcome)
    {
        TimeSpan? pause = outcome.Kind == OutcomeKind.RateLimited ? Outbox.ClampPause(outcome.RetryAfter ?? TimeSpan.FromSeconds(1)) : null;
        Func<RateBucket, string>? bucketKey = _settings is DiscordSettings discord
            ? bucket => BudgetKeys.ForDiscordBucket(GrainKeys.Split(Key).Tenant, new Uri(discord.WebhookUrl), bucket.Id)
            : null;
        return _budgets.ObserveAsync(outcome, pause, bucketKey);
    }

    /// <summary>Joins the budgets of the settings just loaded: a Telegram bot, a Slack workspace; a Discord bucket is learned from answers.</summary>
    private Task JoinBudgetsAsync()
    {
        _budgets.CountInvalidAnswersOf(state.State.Type switch
        {
            ChannelType.Telegram => "Telegram",
            ChannelType.Discord => "Discord",
            ChannelType.Slack => "Slack",
            _ => null,
        });
        return _settings switch
        {
            TelegramSettings telegram => _budgets.UseAsync(BudgetKeys.ForTelegramBot(telegram.BotToken), budgetOptions.Value.TelegramBotPerSecond),
            SlackSettings slack => _budgets.UseAsync(BudgetKeys.ForSlackWorkspace(GrainKeys.Split(Key).Tenant, slack.WebhookUrl), rate: null),
            _ => _budgets.UseAsync(key: null, rate: null),
        };
    }

    /// <summary>
    /// A shared budget that cannot be reached must not stop delivery: the channel's own pace and 429 pauses still hold,
    /// and the platform repeats what the budget missed.
    /// </summary>
    private async Task ShareAsync(Task call, string what)
    {
        try
        {
            await call;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Channel {Channel}: {What} failed; delivering on its own limits", Key, what);
        }
    }

    /// <summary>What a send outcome may change in the channel state itself (not the message): when it did, the state is written.</summary>
    private (bool, string?, DateTimeOffset?, int, int, string?, string) ChannelWide()
    {
        var c = state.State;
        return (c.Enabled, c.DisabledReason, c.PausedUntil, c.ConsecutiveFailures, c.ConsecutiveDeadDestinations, c.LastError, c.ProtectedSettings);
    }

    /// <summary>
    /// Moves pending messages out of a channel state written before the paged outbox into records of their own, then
    /// writes the state without them. Run again after a crash, it finds the records it wrote (same sequences) and goes on.
    /// </summary>
    private async Task MigrateLegacyOutboxAsync()
    {
        if (state.State.LegacyOutbox is not { Count: > 0 })
        {
            state.State.LegacyOutbox = null; // an empty legacy array is dropped at the next write
            return;
        }
        var legacy = Outbox.NumberLegacy();
        foreach (var message in legacy)
        {
            if (await _records.ReadAsync(message.Sequence) is { } stored)
            {
                if (stored.DeliveryId != message.DeliveryId)
                    throw new InvalidOperationException($"Channel {Key}: outbox record {message.Sequence} holds another message than the one being migrated");
                continue;
            }
            await _records.InsertAsync(message);
        }
        Outbox.ForgetLegacy();
        await state.WriteStateAsync();
        logger.LogInformation("Channel {Channel}: {Count} pending messages moved into outbox records", Key, legacy.Count);
    }

    /// <summary>A failed record write leaves memory ahead of storage: drop the activation, so the next call reloads.</summary>
    private async Task DurablyAsync(Task write)
    {
        try
        {
            await write;
        }
        catch
        {
            _stale = true;
            DeactivateOnIdle();
            throw;
        }
    }

    private async Task ClearFinishedAsync(long sequence)
    {
        try
        {
            await _records.ClearAsync(sequence);
        }
        catch (Exception e)
        {
            // Its outcome is stored, so nothing is lost: the next activation clears what is left below HeadSequence.
            _stale = true;
            DeactivateOnIdle();
            logger.LogWarning(e, "Channel {Channel}: clearing outbox record {Sequence} failed; reloading", Key, sequence);
        }
    }

    /// <summary>An ETag-conflict kind of failure, so the Api's retry (ClusterCalls) reaches the fresh activation.</summary>
    private void ThrowIfStale()
    {
        if (_stale) throw new InconsistentStateException($"Channel {Key} is reloading its state after a failed write; retry the call");
    }

    /// <summary>Sends one chunk; markup the platform refuses is resent once as plain text.</summary>
    private async Task<SendOutcome> SendChunkAsync(IChannelSender sender, OutboxMessage message, RenderedChunk chunk, CancellationToken cancellationToken)
    {
        var request = new SendRequest(message.DeliveryId, _settings!, message.Notification, chunk, AsPlainText: false, _pipeline!);
        var outcome = await sender.SendAsync(request, cancellationToken);
        if (outcome.Kind is not (OutcomeKind.MarkupRejected or OutcomeKind.TooLong)) return outcome;

        logger.LogInformation("Delivery {Delivery}: {Error}; resending the chunk as plain text", message.DeliveryId, outcome.Error);
        Outbox.CountAttempt(message, time.GetUtcNow());
        outcome = await sender.SendAsync(request with { AsPlainText = true }, cancellationToken);
        return outcome.Kind is OutcomeKind.MarkupRejected or OutcomeKind.TooLong ? SendOutcome.Rejected(outcome.Error ?? "rejected") : outcome;
    }

    /// <summary>Measures and logs what an outcome did, and answers whoever waits on a finished delivery.</summary>
    private void Report(OutboxMessage message, Applied applied)
    {
        var channel = state.State;
        _board.Changed();
        switch (applied.Step)
        {
            case OutboxStep.Retrying:
                metrics.Retried(channel.Type);
                break;
            case OutboxStep.Paused:
                metrics.Paused(channel.Type);
                logger.LogInformation("Channel {Channel} rate limited until {Until}", Key, channel.PausedUntil);
                break;
        }
        if (applied.DroppedDeadLetters.Count > 0)
            logger.LogWarning("Channel {Channel}: dead-letter queue full (count or bytes); dropping {Deliveries}", Key, applied.DroppedDeadLetters);
        if (applied.Step == OutboxStep.DeadLettered)
            logger.LogWarning("Delivery {Delivery} dead-lettered: {Error}", message.DeliveryId, message.LastError);
        if (applied.DisabledChannel)
            logger.LogWarning("Channel {Channel} disabled: {Error}", Key, channel.LastError);

        if (applied.Final is not { } final) return;
        _rendered = null;
        metrics.PendingChanged(channel.Type, -1);
        metrics.Finished(channel.Type, final, time.GetUtcNow() - message.AcceptedAt);
        if (_waiters.Remove(message.DeliveryId, out var waiting))
            foreach (var waiter in waiting) waiter.TrySetResult();
    }

    private void FollowMigration(TelegramSettings migrated)
    {
        logger.LogInformation("Channel {Channel}: Telegram chat migrated to a supergroup; following it", Key);
        _settings = migrated;
        state.State.ProtectedSettings = secrets.Protect(JsonSerializer.Serialize<ChannelSettings>(migrated), Key);
        _bucket = new TokenBucket(state.State.RateLimit ?? TokenBucket.DefaultFor(migrated), time);
    }

    private IReadOnlyList<RenderedChunk> Render(IChannelSender sender, OutboxMessage message)
    {
        if (_rendered is { } cached && cached.DeliveryId == message.DeliveryId) return cached.Chunks;
        var chunks = sender.Render(message.Notification, _limits);
        if (message.ChunksSent >= chunks.Count) Outbox.Restart(message);
        _rendered = (message.DeliveryId, chunks);
        return chunks;
    }

    /// <summary>Null when the notification renders for this channel's platform, else the reason for the agent.</summary>
    private string? RenderProblem(IChannelSender sender, Notification notification, out IReadOnlyList<RenderedChunk>? chunks)
    {
        chunks = null;
        try
        {
            chunks = sender.Render(notification, _limits);
            return null;
        }
        catch (NotificationRenderException e)
        {
            return e.Message;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Channel {Channel}: rendering a notification failed unexpectedly", Key);
            return $"The message cannot be rendered for {state.State.Type} ({e.GetType().Name}); send it with format \"plain\".";
        }
    }

    /// <summary>Keeps a reminder exactly while messages are pending. Serialized, so a late unregister never removes a newer registration.</summary>
    private Task SyncReminderAsync() => _reminderSync = SyncReminderAfterAsync(_reminderSync);

    private async Task SyncReminderAfterAsync(Task previous)
    {
        try { await previous; } catch { /* its caller saw the failure */ }
        var wanted = state.State.Configured && state.State.Outbox.Count > 0;
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
        _settings = JsonSerializer.Deserialize<ChannelSettings>(secrets.Unprotect(state.State.ProtectedSettings, Key))
            ?? throw new InvalidOperationException($"Channel {Key} has no settings.");
        _bucket = new TokenBucket(state.State.RateLimit ?? TokenBucket.DefaultFor(_settings), time);
        _pipeline ??= DeliveryHttp.CreatePipeline(_options, time);
    }

    private string? TargetProblem(ChannelSettings settings) => settings switch
    {
        DiscordSettings d => addressGuard.CheckUrl(d.WebhookUrl) is { } p ? $"webhookUrl {p}" : null,
        SlackSettings s => addressGuard.CheckUrl(s.WebhookUrl) is { } p ? $"webhookUrl {p}" : null,
        WebhookSettings w => addressGuard.CheckUrl(w.Url) is { } p ? $"url {p}" : null,
        _ => null,
    };

    /// <summary>What the tenant's channel board shows of this channel (<see cref="ChannelBoardReporter"/>): null until configured.</summary>
    private ChannelInfo? BoardView() => state.State.Configured && _settings is not null ? Info() : null;

    private ChannelInfo Info()
    {
        var (channel, now) = (state.State, time.GetUtcNow());
        var hold = channel.Enabled ? _budgets.Hold(now) : null;
        var pausedUntil = new[] { Outbox.PausedUntil(now), _budgets.PausedUntil(now) }.Max();
        return new ChannelInfo(ChannelId, channel.Type, channel.Name, channel.Enabled, hold is null ? Outbox.Health(now) : ChannelHealth.Degraded,
            channel.Outbox.Count, channel.DeadLetters.Count, pausedUntil,
            channel.Enabled ? channel.LastError : channel.DisabledReason ?? channel.LastError, _settings!.Describe(), _bucket!.Policy, hold);
    }
}
