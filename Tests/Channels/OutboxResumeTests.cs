using Dovecote.Grains.Channels;
using Dovecote.Grains.Channels.Delivery;
using Dovecote.Grains.Interfaces.Channels;

namespace Dovecote.Tests.Channels;

/// <summary>What activation does with the records it read and with an outbox stored the old way, on the plain Outbox.</summary>
public sealed class OutboxResumeTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly ChannelState _state = new() { Configured = true, Enabled = true, Type = ChannelType.Webhook, Name = "Hook" };

    private Outbox Outbox() => new(_state, "hook", new DeliveryOptions(), new Random(1));

    private static OutboxMessage Message(long sequence, string? key = null, int minute = 0) => new()
    {
        DeliveryId = $"hook:{sequence}",
        Notification = new Notification($"m{sequence}"),
        AcceptedAt = Start.AddMinutes(minute),
        UpdatedAt = Start.AddMinutes(minute),
        Sequence = sequence,
        IdempotencyKey = key,
    };

    [Fact]
    public void Records_accepted_after_the_last_state_write_bring_back_their_keys_and_move_NextSequence_past_them()
    {
        _state.HeadSequence = 4;
        _state.NextSequence = 5;
        _state.RecentKeys.Add(new IdempotencyEntry("stored", "hook:4", Start.AddMinutes(4)));

        Outbox().Resume([Message(4, "stored", 4), Message(5, "only-in-record", 5), Message(7, minute: 7)]);

        Assert.Equal([4L, 5L, 7L], _state.Outbox.Select(m => m.Sequence));
        Assert.Equal(4, _state.HeadSequence);
        Assert.Equal(8, _state.NextSequence);
        Assert.Equal(["stored", "only-in-record"], _state.RecentKeys.Select(k => k.Key));
        var duplicate = Outbox().Accept(new Notification("again"), "only-in-record", Start.AddMinutes(8));
        Assert.True(duplicate.Duplicate);
        Assert.Equal("hook:5", duplicate.DeliveryId);
    }

    [Fact]
    public void A_redrive_cut_short_before_its_state_write_leaves_the_message_pending_and_no_longer_a_dead_letter()
    {
        var redriven = Message(3);
        _state.DeadLetters.Add(Message(1));
        _state.DeadLetters.Add(new OutboxMessage { DeliveryId = redriven.DeliveryId, Notification = redriven.Notification });
        _state.History.Add(new DeliveryStatus(redriven.DeliveryId, "hook", DeliveryState.Failed, 1, "gone", [], Start, Start, null));
        _state.NextSequence = 3;

        Outbox().Resume([redriven]);

        Assert.Equal(["hook:1"], _state.DeadLetters.Select(d => d.DeliveryId));
        Assert.Empty(_state.History);
        Assert.Equal(DeliveryState.Queued, Outbox().Find(redriven.DeliveryId)!.State);
    }

    [Fact]
    public void Nothing_pending_puts_the_head_at_NextSequence()
    {
        _state.HeadSequence = 2;
        _state.NextSequence = 9;

        Outbox().Resume([]);

        Assert.Equal(9, _state.HeadSequence);
        Assert.Empty(_state.Outbox);
    }

    [Fact]
    public void A_legacy_outbox_is_numbered_the_same_way_every_time_with_its_keys_then_forgotten()
    {
        _state.LegacyOutbox = [Message(0), Message(0)];
        _state.LegacyOutbox[0].DeliveryId = "hook:a";
        _state.LegacyOutbox[1].DeliveryId = "hook:b";
        _state.RecentKeys.Add(new IdempotencyEntry("kb", "hook:b", Start));

        var first = Outbox().NumberLegacy().Select(m => (m.Sequence, m.IdempotencyKey)).ToList();
        var again = Outbox().NumberLegacy().Select(m => (m.Sequence, m.IdempotencyKey)).ToList(); // after a crash mid-migration

        Assert.Equal([(0L, (string?)null), (1L, "kb")], first);
        Assert.Equal(first, again);
        Outbox().ForgetLegacy();
        Assert.Null(_state.LegacyOutbox);
        Assert.Equal(2, _state.NextSequence);
    }
}
