using Dovecote.Grains.Channels;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Interfaces.Channels;

namespace Dovecote.Tests.Channels;

/// <summary>The delivery rules on their own: no cluster, a clock that only moves when told, jitter fixed.</summary>
public sealed class OutboxTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly ChannelState _state = new() { Configured = true, Enabled = true, Type = ChannelType.Webhook, Name = "Hook" };
    private readonly DeliveryOptions _options = new()
    {
        InitialBackoff = TimeSpan.FromSeconds(2),
        MaxBackoff = TimeSpan.FromSeconds(10),
        MaxAttempts = 12,
        MaxAge = TimeSpan.FromHours(24),
        MaxPause = TimeSpan.FromMinutes(5),
        HistoryCapacity = 3,
        DeadLetterCapacity = 2,
        OutboxCapacity = 10,
        FailingAfter = 3,
        AutoDisableAfter = 3,
    };

    /// <summary>Jitter 0.5: every backoff is exactly three quarters of its step.</summary>
    private Outbox Outbox(double jitter = 0.5) => new(_state, "hook", _options, new FixedRandom(jitter));

    private string Accept(string text = "hello", DateTimeOffset? at = null, string? idempotencyKey = null)
    {
        var result = Outbox().Accept(new Notification(text), idempotencyKey, at ?? Start);
        Assert.True(result.Accepted, result.Error);
        return result.DeliveryId!;
    }

    private OutboxMessage Pending(string deliveryId) => Assert.Single(_state.Outbox, m => m.DeliveryId == deliveryId);

    private Applied Apply(string deliveryId, SendOutcome outcome, DateTimeOffset at, int chunks = 1) =>
        Outbox().Apply(Pending(deliveryId), outcome, chunks, at);

    [Fact]
    public void A_success_delivers_the_message_with_the_platforms_message_id_as_receipt()
    {
        var id = Accept();

        var applied = Apply(id, SendOutcome.Delivered("4711"), Start.AddSeconds(1));

        Assert.Equal(OutboxStep.Delivered, applied.Step);
        Assert.Equal(DeliveryState.Delivered, applied.Final);
        Assert.Empty(_state.Outbox);
        var status = Outbox().Find(id)!;
        Assert.Equal(DeliveryState.Delivered, status.State);
        Assert.Equal(["4711"], status.MessageIds);
        Assert.Equal(1, status.Attempts);
        Assert.Null(status.LastError);
        Assert.Equal(Start.AddSeconds(1), status.UpdatedAt);
        Assert.Equal(ChannelHealth.Healthy, Outbox().Health(Start.AddSeconds(1)));
        Assert.Null(Outbox().WaitBeforeNext(Start.AddSeconds(1)));
    }

    [Fact]
    public void A_message_of_several_chunks_is_delivered_when_its_last_chunk_is()
    {
        var id = Accept();

        Assert.Equal(OutboxStep.Sending, Apply(id, SendOutcome.Delivered("1"), Start, chunks: 2).Step);
        Assert.Equal(1, Pending(id).ChunksSent);
        Assert.Equal(DeliveryState.Queued, Outbox().Find(id)!.State);

        Assert.Equal(OutboxStep.Delivered, Apply(id, SendOutcome.Delivered("2"), Start, chunks: 2).Step);
        Assert.Equal(["1", "2"], Outbox().Find(id)!.MessageIds);
    }

    [Fact]
    public void Retryable_failures_back_off_exponentially_up_to_the_maximum()
    {
        var id = Accept();
        var now = Start;
        var waits = new List<TimeSpan>();
        for (var failure = 1; failure <= 5; failure++)
        {
            Assert.Equal(OutboxStep.Retrying, Apply(id, SendOutcome.Retryable("HTTP 503"), now).Step);
            var message = Pending(id);
            waits.Add(message.NextAttemptAt!.Value - now);
            Assert.Equal(waits[^1], Outbox().WaitBeforeNext(now));
            now = message.NextAttemptAt!.Value;
            Assert.Equal(TimeSpan.Zero, Outbox().WaitBeforeNext(now));
        }

        // Steps 2, 4, 8, then the 10 s cap; three quarters of each with this jitter.
        Assert.Equal([1.5, 3, 6, 7.5, 7.5], waits.Select(w => w.TotalSeconds));
        var status = Outbox().Find(id)!;
        Assert.Equal(DeliveryState.Retrying, status.State);
        Assert.Equal(5, status.Attempts);
        Assert.Equal("HTTP 503", status.LastError);
        Assert.Equal(now, status.NextAttemptAt);
    }

    [Theory]
    [InlineData(0.0, 1.0, 5.0)]
    [InlineData(0.999, 1.999, 9.995)]
    public void Jitter_keeps_a_backoff_between_half_its_step_and_the_whole_step(double jitter, double firstSeconds, double cappedSeconds)
    {
        var id = Accept();
        var outbox = Outbox(jitter);

        outbox.Apply(Pending(id), SendOutcome.Retryable("HTTP 500"), 1, Start);
        Assert.Equal(firstSeconds, (Pending(id).NextAttemptAt!.Value - Start).TotalSeconds, precision: 6);

        for (var i = 0; i < 6; i++) outbox.Apply(Pending(id), SendOutcome.Retryable("HTTP 500"), 1, Start);
        Assert.Equal(cappedSeconds, (Pending(id).NextAttemptAt!.Value - Start).TotalSeconds, precision: 6);
    }

    [Fact]
    public void A_retry_after_longer_than_the_backoff_is_honoured()
    {
        var id = Accept();

        Apply(id, SendOutcome.Retryable("HTTP 503", retryAfter: TimeSpan.FromSeconds(40)), Start);

        Assert.Equal(Start.AddSeconds(40), Pending(id).NextAttemptAt);
        Assert.Null(_state.PausedUntil); // a 5xx delays the message, not the channel
    }

    [Fact]
    public void Failures_make_the_channel_degraded_then_failing_and_a_success_makes_it_healthy()
    {
        var id = Accept();

        Apply(id, SendOutcome.Retryable("HTTP 502"), Start);
        Assert.Equal(ChannelHealth.Degraded, Outbox().Health(Start));
        Apply(id, SendOutcome.Retryable("HTTP 502"), Start);
        Apply(id, SendOutcome.Retryable("HTTP 502"), Start);
        Assert.Equal(ChannelHealth.Failing, Outbox().Health(Start));
        Assert.Equal("HTTP 502", _state.LastError);

        Apply(id, SendOutcome.Delivered("9"), Start);
        Assert.Equal(ChannelHealth.Healthy, Outbox().Health(Start));
        Assert.Null(_state.LastError);
    }

    [Fact]
    public void A_429_pauses_the_whole_channel_for_retry_after_without_using_up_the_attempt_budget()
    {
        var first = Accept("first");
        var second = Accept("second");

        // More 429s than the budget allows failures: none of them counts.
        for (var i = 0; i < _options.MaxAttempts + 3; i++)
            Assert.Equal(OutboxStep.Paused, Apply(first, SendOutcome.RateLimited("HTTP 429", TimeSpan.FromSeconds(30)), Start).Step);

        var message = Pending(first);
        Assert.Equal(0, message.Failures);
        Assert.Equal(_options.MaxAttempts + 3, message.Attempts);
        Assert.Null(message.NextAttemptAt);
        Assert.Equal(Start.AddSeconds(30), _state.PausedUntil);
        Assert.Equal(TimeSpan.FromSeconds(30), Outbox().WaitBeforeNext(Start));
        Assert.Equal(TimeSpan.FromSeconds(10), Outbox().WaitBeforeNext(Start.AddSeconds(20)));
        Assert.Equal(TimeSpan.Zero, Outbox().WaitBeforeNext(Start.AddSeconds(30)));
        Assert.Equal(Start.AddSeconds(30), Outbox().PausedUntil(Start));
        Assert.Equal(ChannelHealth.Degraded, Outbox().Health(Start));
        Assert.Equal(ChannelHealth.Healthy, Outbox().Health(Start.AddSeconds(30)));
        Assert.Equal(DeliveryState.Retrying, Outbox().Find(first)!.State);
        Assert.Equal(DeliveryState.Queued, Outbox().Find(second)!.State);
        Assert.Same(message, Outbox().Head); // order is kept: the paused message goes first
    }

    [Fact]
    public void A_pause_is_bounded_and_never_shortened_by_a_later_shorter_one()
    {
        var id = Accept();

        Apply(id, SendOutcome.RateLimited("HTTP 429", TimeSpan.FromDays(3)), Start);
        Assert.Equal(Start + _options.MaxPause, _state.PausedUntil);

        Apply(id, SendOutcome.RateLimited("HTTP 429", TimeSpan.FromSeconds(1)), Start.AddSeconds(10));
        Assert.Equal(Start + _options.MaxPause, _state.PausedUntil);
    }

    [Fact]
    public void A_success_that_says_slow_down_delivers_and_pauses_the_channel()
    {
        var id = Accept();

        Assert.Equal(OutboxStep.Delivered, Apply(id, SendOutcome.Delivered("7", pauseAfter: TimeSpan.FromSeconds(2)), Start).Step);

        Assert.Equal(Start.AddSeconds(2), _state.PausedUntil);
    }

    [Fact]
    public void A_dead_destination_dead_letters_at_once_and_disables_the_channel_after_repeated_refusals()
    {
        var ids = Enumerable.Range(0, 4).Select(i => Accept($"m{i}")).ToList();

        var first = Apply(ids[0], SendOutcome.Dead("HTTP 404: Unknown Webhook"), Start);
        Assert.Equal(OutboxStep.DeadLettered, first.Step);
        Assert.Equal(DeliveryState.Failed, first.Final);
        Assert.False(first.DisabledChannel);
        var dead = Assert.Single(Outbox().DeadLetters());
        Assert.Equal(ids[0], dead.DeliveryId);
        Assert.Equal("HTTP 404: Unknown Webhook", dead.LastError);
        Assert.Equal(DeliveryState.Failed, Outbox().Find(ids[0])!.State);
        Assert.True(_state.Enabled);

        Assert.False(Apply(ids[1], SendOutcome.Dead("HTTP 404: Unknown Webhook"), Start).DisabledChannel);
        var third = Apply(ids[2], SendOutcome.Dead("HTTP 404: Unknown Webhook"), Start);

        Assert.True(third.DisabledChannel);
        Assert.False(_state.Enabled);
        Assert.Equal("the destination refused delivery: HTTP 404: Unknown Webhook", _state.DisabledReason);
        Assert.Equal(ChannelHealth.Disabled, Outbox().Health(Start));
        Assert.Null(Outbox().WaitBeforeNext(Start)); // the fourth message waits for an operator
        Assert.Equal(DeliveryState.Queued, Outbox().Find(ids[3])!.State);
        var refused = Outbox().Accept(new Notification("more"), null, Start);
        Assert.Equal(EnqueueRejection.ChannelDisabled, refused.Rejection);
    }

    [Fact]
    public void A_delivery_between_dead_destinations_restarts_the_count_towards_disabling()
    {
        var ids = Enumerable.Range(0, 5).Select(i => Accept($"m{i}")).ToList();

        Apply(ids[0], SendOutcome.Dead("chat not found"), Start);
        Apply(ids[1], SendOutcome.Dead("chat not found"), Start);
        Apply(ids[2], SendOutcome.Delivered("1"), Start);
        Apply(ids[3], SendOutcome.Dead("chat not found"), Start);
        Apply(ids[4], SendOutcome.Dead("chat not found"), Start);

        Assert.True(_state.Enabled);
        Assert.Equal(2, _state.ConsecutiveDeadDestinations);
    }

    [Fact]
    public void A_destination_gone_for_good_disables_the_channel_on_the_first_answer()
    {
        var id = Accept();

        var applied = Apply(id, SendOutcome.Dead("bot was blocked by the user", disableChannel: true), Start);

        Assert.True(applied.DisabledChannel);
        Assert.False(_state.Enabled);
    }

    [Fact]
    public void Enabling_a_disabled_channel_clears_its_failures()
    {
        var id = Accept();
        Apply(id, SendOutcome.Dead("HTTP 410", disableChannel: true), Start);

        Outbox().SetEnabled(true);

        Assert.True(_state.Enabled);
        Assert.Null(_state.DisabledReason);
        Assert.Equal(ChannelHealth.Healthy, Outbox().Health(Start));
        Outbox().SetEnabled(false);
        Assert.Equal("disabled by an operator", _state.DisabledReason);
    }

    [Fact]
    public void Retries_that_use_up_the_attempt_budget_dead_letter_with_the_last_error()
    {
        _options.MaxAttempts = 3;
        var id = Accept();

        Assert.Equal(OutboxStep.Retrying, Apply(id, SendOutcome.Retryable("HTTP 500"), Start).Step);
        Assert.Equal(OutboxStep.Retrying, Apply(id, SendOutcome.Retryable("HTTP 502"), Start).Step);
        var last = Apply(id, SendOutcome.Retryable("timed out after 15 s"), Start);

        Assert.Equal(OutboxStep.DeadLettered, last.Step);
        var dead = Assert.Single(Outbox().DeadLetters());
        Assert.Equal("gave up after 3 failed attempts: timed out after 15 s", dead.LastError);
        Assert.Null(dead.NextAttemptAt);
        Assert.Empty(_state.Outbox);
        Assert.True(_state.Enabled); // a flaky platform is not a dead destination
    }

    [Fact]
    public void A_message_still_failing_after_the_age_budget_is_dead_lettered()
    {
        _options.MaxAge = TimeSpan.FromHours(1);
        var id = Accept();

        Assert.Equal(OutboxStep.Retrying, Apply(id, SendOutcome.Retryable("HTTP 503"), Start.AddMinutes(59)).Step);
        Assert.Equal(OutboxStep.DeadLettered, Apply(id, SendOutcome.Retryable("HTTP 503"), Start.AddHours(1)).Step);

        Assert.Equal("gave up after 2 failed attempts: HTTP 503", Outbox().Find(id)!.LastError);
    }

    [Fact]
    public void A_message_the_platform_rejects_is_dead_lettered_without_counting_against_the_channel()
    {
        var id = Accept();

        var applied = Apply(id, SendOutcome.Rejected("message is too long"), Start);

        Assert.Equal(OutboxStep.DeadLettered, applied.Step);
        Assert.Equal("message is too long", Outbox().Find(id)!.LastError);
        Assert.Equal(0, _state.ConsecutiveDeadDestinations);
        Assert.Equal(ChannelHealth.Healthy, Outbox().Health(Start));
    }

    [Fact]
    public void History_keeps_only_the_most_recent_finished_deliveries()
    {
        var ids = Enumerable.Range(0, 5).Select(i => Accept($"m{i}")).ToList();

        foreach (var id in ids) Apply(id, SendOutcome.Delivered(id), Start);

        Assert.Equal(ids.TakeLast(_options.HistoryCapacity), _state.History.Select(h => h.DeliveryId));
        Assert.Null(Outbox().Find(ids[0]));
        Assert.NotNull(Outbox().Find(ids[^1]));
    }

    [Fact]
    public void A_full_dead_letter_queue_drops_its_oldest_letter()
    {
        var ids = Enumerable.Range(0, 3).Select(i => Accept($"m{i}")).ToList();

        Assert.Empty(Apply(ids[0], SendOutcome.Rejected("bad"), Start).DroppedDeadLetters);
        Assert.Empty(Apply(ids[1], SendOutcome.Rejected("bad"), Start).DroppedDeadLetters);
        var third = Apply(ids[2], SendOutcome.Rejected("bad"), Start);

        Assert.Equal([ids[0]], third.DroppedDeadLetters);
        Assert.Equal(ids.Skip(1), Outbox().DeadLetters().Select(d => d.DeliveryId));
    }

    [Fact]
    public void A_full_outbox_refuses_instead_of_dropping()
    {
        _options.OutboxCapacity = 2;
        Accept("one");
        Accept("two");

        var refused = Outbox().Accept(new Notification("three"), null, Start);

        Assert.Equal(EnqueueRejection.OutboxFull, refused.Rejection);
        Assert.Equal("channel 'hook' has 2 messages pending; retry later", refused.Error);
        Assert.Equal(2, _state.Outbox.Count);
    }

    [Fact]
    public void An_idempotency_key_returns_the_first_delivery_within_the_window_only()
    {
        _options.IdempotencyWindow = TimeSpan.FromHours(24);
        var first = Accept(idempotencyKey: "build-42");

        var again = Outbox().Accept(new Notification("hello"), "build-42", Start.AddHours(23));
        var later = Outbox().Accept(new Notification("hello"), "build-42", Start.AddHours(25));

        Assert.True(again.Duplicate);
        Assert.Equal(first, again.DeliveryId);
        Assert.False(later.Duplicate);
        Assert.NotEqual(first, later.DeliveryId);
        Assert.Equal(2, _state.Outbox.Count);
    }

    [Fact]
    public void The_idempotency_memory_is_bounded()
    {
        _options.IdempotencyCapacity = 2;
        var first = Accept("a", idempotencyKey: "k1");
        Accept("b", idempotencyKey: "k2");
        Accept("c", idempotencyKey: "k3");
        Assert.Equal(["k2", "k3"], _state.RecentKeys.Select(k => k.Key));

        var again = Outbox().Accept(new Notification("a"), "k1", Start);

        Assert.False(again.Duplicate);
        Assert.NotEqual(first, again.DeliveryId);
    }

    [Fact]
    public void Bad_input_and_missing_channels_are_refused()
    {
        Assert.Equal(EnqueueRejection.InvalidMessage, Outbox().Accept(new Notification(" "), null, Start).Rejection);
        Assert.Equal(EnqueueRejection.InvalidMessage, Outbox().Accept(new Notification("hi"), "", Start).Rejection);
        Assert.Equal(EnqueueRejection.InvalidMessage, Outbox().Accept(new Notification("hi"), new string('k', 201), Start).Rejection);
        var missing = new Outbox(new ChannelState(), "gone", _options, new FixedRandom(0)).Accept(new Notification("hi"), null, Start);
        Assert.Equal(EnqueueRejection.ChannelNotFound, missing.Rejection);
        Assert.Equal("channel 'gone' does not exist", missing.Error);
        Assert.Empty(_state.Outbox);
    }

    [Fact]
    public void Redrive_queues_a_dead_letter_again_with_a_fresh_budget()
    {
        _options.MaxAttempts = 1;
        var id = Accept();
        Apply(id, SendOutcome.Retryable("HTTP 500"), Start);
        Assert.Single(_state.DeadLetters);

        Assert.Equal(0, Outbox().Redrive("someone-else", Start.AddMinutes(1)));
        Assert.Equal(1, Outbox().Redrive(id, Start.AddMinutes(1)));

        var message = Pending(id);
        Assert.Equal(0, message.Failures);
        Assert.Null(message.NextAttemptAt);
        Assert.Equal(Start.AddMinutes(1), message.UpdatedAt);
        Assert.Empty(_state.DeadLetters);
        Assert.DoesNotContain(_state.History, h => h.DeliveryId == id);
        Assert.Equal(DeliveryState.Retrying, Outbox().Find(id)!.State); // it carries its last error until it succeeds
        Assert.Equal(TimeSpan.Zero, Outbox().WaitBeforeNext(Start.AddMinutes(1)));
        Assert.Equal(OutboxStep.Delivered, Apply(id, SendOutcome.Delivered("1"), Start.AddMinutes(1)).Step);
    }

    /// <summary>Makes jitter a constant.</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
        protected override double Sample() => value;
    }
}
