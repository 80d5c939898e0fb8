using System.Text.Json;
using Dovecote.Grains.Channels;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Interfaces.Channels;
using Orleans.Serialization;

namespace Dovecote.Tests.Channels;

/// <summary>The byte budgets of a channel's state and the clamp on a platform's retry-after, on the plain Outbox.</summary>
public sealed class OutboxBudgetTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Six stored bytes a character: the default JSON encoder writes '&lt;' as "\u003C".</summary>
    private const char Worst = '\u0001'; // a control character: escaped as \u0001, six bytes stored

    private readonly ChannelState _state = new() { Configured = true, Enabled = true, Type = ChannelType.Webhook, Name = "Hook" };
    private readonly DeliveryOptions _options = new()
    {
        InitialBackoff = TimeSpan.FromSeconds(2),
        MaxBackoff = TimeSpan.FromSeconds(10),
        MaxPause = TimeSpan.FromMinutes(5),
    };

    private Outbox Outbox() => new(_state, "hook", _options, new FixedRandom(0.5));

    private OutboxMessage AcceptOk(string text, string? idempotencyKey = null)
    {
        var result = Outbox().Accept(new Notification(text), idempotencyKey, Start);
        Assert.True(result.Accepted, result.Error);
        return Assert.Single(_state.Outbox, m => m.DeliveryId == result.DeliveryId);
    }

    [Fact]
    public void A_5xx_retry_after_far_in_the_future_waits_at_most_MaxPause()
    {
        var message = AcceptOk("hello");

        Outbox().Apply(message, SendOutcome.Retryable("HTTP 503", retryAfter: TimeSpan.FromDays(1)), 1, Start);

        Assert.Equal(Start + _options.MaxPause, message.NextAttemptAt);
    }

    [Fact]
    public void A_5xx_retry_after_under_MaxPause_is_still_honoured()
    {
        var message = AcceptOk("hello");

        Outbox().Apply(message, SendOutcome.Retryable("HTTP 503", retryAfter: TimeSpan.FromMinutes(3)), 1, Start);

        Assert.Equal(Start + TimeSpan.FromMinutes(3), message.NextAttemptAt);
    }

    [Fact]
    public void Past_the_outbox_byte_budget_an_enqueue_is_refused_as_backpressure_and_accepted_once_there_is_room()
    {
        _options.OutboxBudgetBytes = 10_000;
        var text = new string('x', 2_000);
        var accepted = new List<OutboxMessage>();
        EnqueueResult result;
        while ((result = Outbox().Accept(new Notification(text), null, Start)).Accepted) accepted.Add(_state.Outbox[^1]);

        Assert.Equal(EnqueueRejection.OutboxFull, result.Rejection);
        Assert.Contains("Delivery__OutboxBudgetBytes", result.Error);
        Assert.Contains("backpressure", result.Error);
        Assert.Equal(3, accepted.Count); // about 3,100 bytes each with the entry's allowance
        Assert.True(_state.Outbox.Sum(StoredSize.Of) <= _options.OutboxBudgetBytes);

        Outbox().Apply(accepted[0], SendOutcome.Delivered("1"), 1, Start);
        Assert.True(Outbox().Accept(new Notification(text), null, Start).Accepted);
    }

    [Fact]
    public void Text_counts_the_utf8_bytes_it_is_stored_as()
    {
        _options.OutboxBudgetBytes = 10_000;

        var ascii = Outbox().Accept(new Notification(new string('x', 1_400)), null, Start);
        var cjk = Outbox().Accept(new Notification(new string('中', 2_500)), null, Start); // 7,500 bytes of UTF-8
        var more = Outbox().Accept(new Notification(new string('x', 2_500)), null, Start);

        Assert.True(ascii.Accepted, ascii.Error);
        Assert.Equal(EnqueueRejection.OutboxFull, cjk.Rejection);
        Assert.True(more.Accepted, more.Error);
    }

    [Fact]
    public void The_longest_message_in_any_script_fits_the_default_outbox()
    {
        foreach (var letter in new[] { 'ж', '中', 'x' })
        {
            var state = new ChannelState { Configured = true, Enabled = true, Type = ChannelType.Webhook, Name = "Hook" };
            var result = new Outbox(state, "c", new DeliveryOptions(), new FixedRandom(0.5))
                .Accept(new Notification(new string(letter, Notification.MaxMessageLength)), null, Start);

            Assert.True(result.Accepted, $"{letter}: {result.Error}");
        }
    }

    [Fact]
    public void A_message_bigger_than_one_record_may_hold_is_refused_as_invalid_not_as_retry_later()
    {
        var fits = Outbox().Accept(new Notification(new string(Worst, 21_500)), null, Start); // 129,000 bytes and the entry's
        var result = Outbox().Accept(new Notification(new string(Worst, 22_000)), null, Start); // 132,000 bytes

        Assert.True(fits.Accepted, fits.Error);
        Assert.Equal(EnqueueRejection.InvalidMessage, result.Rejection);
        Assert.Contains("shorten it", result.Error);
        Assert.Contains(Grains.Channels.Delivery.Outbox.MaxMessageBytes.ToString(), result.Error);
        Assert.Single(_state.Outbox);
    }

    [Fact]
    public void Accepts_number_their_records_in_order_and_a_finished_head_advances_HeadSequence()
    {
        var first = AcceptOk("one", "key-1");
        var second = AcceptOk("two");

        Assert.Equal([0L, 1L], _state.Outbox.Select(m => m.Sequence));
        Assert.Equal("key-1", first.IdempotencyKey); // durable in the record until a channel state holding it is written
        Assert.Equal(2, _state.NextSequence);
        Outbox().Apply(first, SendOutcome.Delivered("m1"), 1, Start);
        Assert.Equal(second.Sequence, _state.HeadSequence);
        Outbox().Apply(second, SendOutcome.Delivered("m2"), 1, Start);
        Assert.Equal(2, _state.HeadSequence);
    }

    [Fact]
    public void A_render_problem_refuses_the_message_and_remembers_nothing()
    {
        var result = Outbox().Accept(new Notification("> > >"), "key", Start, _ => "it nests too deeply");

        Assert.Equal(EnqueueRejection.InvalidMessage, result.Rejection);
        Assert.Equal("it nests too deeply", result.Error);
        Assert.Empty(_state.Outbox);
        Assert.Empty(_state.RecentKeys);
    }

    [Fact]
    public void Abandon_dead_letters_the_message_with_the_reason_and_the_next_becomes_the_head()
    {
        var poison = AcceptOk("poison");
        var next = AcceptOk("next");

        var applied = Outbox().Abandon(poison, "it renders to 5 messages", Start.AddSeconds(1));

        Assert.Equal(OutboxStep.DeadLettered, applied.Step);
        Assert.Same(next, Outbox().Head);
        var dead = Assert.Single(Outbox().DeadLetters());
        Assert.Equal("it renders to 5 messages", dead.LastError);
        Assert.Equal(Start.AddSeconds(1), dead.UpdatedAt);
    }

    [Fact]
    public void Dead_letters_are_bounded_by_bytes_oldest_dropped_and_their_status_kept()
    {
        _options.DeadLetterBudgetBytes = 16 * 1024;
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var message = AcceptOk($"{i} {new string('x', 5_000)}");
            ids.Add(message.DeliveryId);
            Outbox().Apply(message, SendOutcome.Rejected("HTTP 400"), 1, Start);
            Assert.True(_state.DeadLetters.Sum(StoredSize.Of) <= _options.DeadLetterBudgetBytes);
        }

        Assert.Equal(ids.TakeLast(2), _state.DeadLetters.Select(d => d.DeliveryId)); // about 6 KB each
        Assert.Equal(DeliveryState.Failed, Outbox().Find(ids[0])!.State); // dropped from the queue, still in the history
    }

    [Fact]
    public void A_dead_letter_bigger_than_its_budget_is_not_kept_but_its_status_is()
    {
        _options.DeadLetterBudgetBytes = 4 * 1024;
        var message = AcceptOk(new string('x', 8_000));

        var applied = Outbox().Apply(message, SendOutcome.Rejected("HTTP 400"), 1, Start);

        Assert.Equal([message.DeliveryId], applied.DroppedDeadLetters);
        Assert.Empty(_state.DeadLetters);
        Assert.Equal(DeliveryState.Failed, Outbox().Find(message.DeliveryId)!.State);
    }

    [Fact]
    public void History_is_bounded_by_bytes_and_never_stops_a_delivery()
    {
        _options.HistoryBudgetBytes = 8 * 1024;
        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var message = AcceptOk($"m{i}");
            ids.Add(message.DeliveryId);
            Assert.Equal(OutboxStep.Delivered, Outbox().Apply(message, SendOutcome.Delivered(new string('9', 19)), 1, Start).Step);
            Assert.True(_state.History.Sum(StoredSize.Of) <= _options.HistoryBudgetBytes);
        }

        Assert.InRange(_state.History.Count, 2, 10);
        Assert.Equal(ids[^1], _state.History[^1].DeliveryId);
        Assert.Null(Outbox().Find(ids[0]));
    }

    [Fact]
    public void Idempotency_keys_are_bounded_by_bytes_oldest_forgotten_first()
    {
        _options.IdempotencyBudgetBytes = 4 * 1024;
        for (var i = 0; i < 20; i++)
        {
            var message = AcceptOk($"m{i}", idempotencyKey: $"{i:D3}{new string(Worst, 190)}"); // about 1.5 KB each
            Outbox().Apply(message, SendOutcome.Delivered("1"), 1, Start);
            Assert.True(_state.RecentKeys.Sum(StoredSize.Of) <= _options.IdempotencyBudgetBytes);
        }

        Assert.Equal(["018", "019"], _state.RecentKeys.Select(k => k.Key[..3]));
    }

    [Fact]
    public void A_long_reason_to_abandon_a_message_is_clipped_where_it_is_stored()
    {
        var message = AcceptOk("hello");

        Outbox().Abandon(message, "rendering failed: " + new string('e', 16_000), Start);

        Assert.Equal(Grains.Channels.Delivery.Outbox.MaxStoredErrorLength, _state.DeadLetters[0].LastError!.Length);
        Assert.Equal(Grains.Channels.Delivery.Outbox.MaxStoredErrorLength, _state.History[0].LastError!.Length);
        Assert.StartsWith("rendering failed: eee", _state.History[0].LastError);
    }

    /// <summary>
    /// The worst case under the defaults, filled the way an attacker would (every character escaped to six bytes, the
    /// longest errors, keys and message ids), serialized by the grain storage's own JSON options: the channel state must
    /// stay under the 128 KiB docs/architecture.md promises (its pending messages are records of their own, not in it).
    /// </summary>
    [Fact]
    public void A_channel_filled_to_every_budget_stays_under_128_KiB_stored_and_holds_no_pending_message()
    {
        var options = new DeliveryOptions();
        var outbox = new Outbox(_state, "c", options, new FixedRandom(0.5));
        _state.Name = new string(Worst, 100);
        _state.ProtectedSettings = "v1." + new string('+', (ChannelGrain.MaxProtectedSettingsBytes - 3) / 6);
        var longError = new string(Worst, 20_000);
        var ids = Enumerable.Range(0, options.MaxChunksPerMessage).Select(i => new string('9', 19)).ToList();

        // History and idempotency keys: deliveries of many chunks under the longest keys.
        for (var i = 0; i < 200; i++)
        {
            var accepted = outbox.Accept(new Notification($"h{i}"), $"{i:D4}{new string(Worst, Notification.MaxIdempotencyKeyLength - 4)}", Start);
            var message = _state.Outbox.Single(m => m.DeliveryId == accepted.DeliveryId);
            foreach (var id in ids) outbox.Apply(message, SendOutcome.Delivered(id), ids.Count, Start);
        }
        // Dead letters to their budget, each with the longest error.
        for (var i = 0; i < 20; i++)
        {
            var accepted = outbox.Accept(new Notification(new string(Worst, 1_000)), null, Start);
            outbox.Apply(_state.Outbox.Single(m => m.DeliveryId == accepted.DeliveryId), SendOutcome.Rejected(longError), 1, Start);
        }
        // Then the outbox to its budget, and a long error on every pending message.
        while (outbox.Accept(new Notification(new string(Worst, 3_000)), null, Start).Accepted) { }
        while (outbox.Accept(new Notification("x"), null, Start).Accepted) { }
        foreach (var message in _state.Outbox.ToList()) outbox.Apply(message, SendOutcome.RateLimited(longError, TimeSpan.FromSeconds(1)), 1, Start);
        _state.LastError = _state.DisabledReason = new string(Worst, Grains.Channels.Delivery.Outbox.MaxStoredErrorLength);

        var stored = JsonSerializer.SerializeToUtf8Bytes(_state, Dovecote.Grains.Storage.StorageJson.Options()).Length;

        Assert.True(_state.Outbox.Sum(StoredSize.Of) > options.OutboxBudgetBytes - 2_000, "the outbox is not full");
        Assert.True(_state.DeadLetters.Sum(StoredSize.Of) > options.DeadLetterBudgetBytes - 10_000, "the dead letters are not full");
        Assert.True(_state.History.Sum(StoredSize.Of) > options.HistoryBudgetBytes - 8_000, "the history is not full");
        Assert.True(_state.RecentKeys.Sum(StoredSize.Of) > options.IdempotencyBudgetBytes - 2_000, "the keys are not full");
        Assert.True(stored <= 128 * 1024, $"{stored} bytes stored, more than 128 KiB");
        var json = System.Text.Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(_state, Dovecote.Grains.Storage.StorageJson.Options()));
        Assert.DoesNotContain("\"Outbox\"", json);
        Assert.Contains("\"NextSequence\"", json);
    }

    /// <summary>One pending message's record at its worst: the largest message accepted, then grown by delivery (every
    /// chunk's message id, the longest error) under the longest idempotency key: under the 136 KiB the docs promise.</summary>
    [Fact]
    public void The_largest_record_stays_under_136_KiB_stored()
    {
        var options = new DeliveryOptions();
        var outbox = new Outbox(_state, "c", options, new FixedRandom(0.5));
        var key = new string(Worst, Notification.MaxIdempotencyKeyLength);
        var title = new string(Worst, Notification.MaxTitleLength);
        // As long as one record may take: the text fills what the title, the url and the entry leave.
        var url = "https://example.com/" + new string('a', Notification.MaxUrlLength - 20);
        var room = (Grains.Channels.Delivery.Outbox.MaxMessageBytes - StoredSize.EntryOverhead - 6 * title.Length - url.Length - 64) / 6;
        var result = outbox.Accept(new Notification(new string(Worst, (int)room), title, url), key, Start);
        Assert.True(result.Accepted, result.Error);
        var message = Assert.Single(_state.Outbox);
        Assert.True(StoredSize.Of(message) > Grains.Channels.Delivery.Outbox.MaxMessageBytes - 200, "the message is not as large as allowed");
        for (var i = 0; i < options.MaxChunksPerMessage - 1; i++)
            outbox.Apply(message, SendOutcome.Delivered(new string('9', 64)), options.MaxChunksPerMessage, Start);
        outbox.Apply(message, SendOutcome.RateLimited(new string(Worst, 20_000), TimeSpan.FromSeconds(1)), options.MaxChunksPerMessage, Start);

        var stored = JsonSerializer.SerializeToUtf8Bytes(message, Dovecote.Grains.Storage.StorageJson.Options()).Length;

        Assert.Equal(options.MaxChunksPerMessage - 1, message.MessageIds.Count);
        Assert.True(stored <= 136 * 1024, $"{stored} bytes stored, more than 136 KiB");
    }

    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
        protected override double Sample() => value;
    }
}
