namespace Dovecote.Grains.Interfaces.Channels;

[GenerateSerializer, Alias("dovecote.DeliveryState")]
public enum DeliveryState
{
    Queued = 0,
    Retrying = 1,
    Delivered = 2,
    Failed = 3,
}

/// <summary>Where one accepted message stands.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.DeliveryStatus")]
public sealed record DeliveryStatus(
    [property: Id(0)] string DeliveryId,
    [property: Id(1)] string ChannelId,
    [property: Id(2)] DeliveryState State,
    [property: Id(3)] int Attempts,
    [property: Id(4)] string? LastError,
    [property: Id(5)] IReadOnlyList<string> MessageIds,
    [property: Id(6)] DateTimeOffset AcceptedAt,
    [property: Id(7)] DateTimeOffset UpdatedAt,
    [property: Id(8)] DateTimeOffset? NextAttemptAt);

[GenerateSerializer, Alias("dovecote.EnqueueRejection")]
public enum EnqueueRejection
{
    None = 0,
    ChannelNotFound = 1,
    ChannelDisabled = 2,
    OutboxFull = 3,
    InvalidMessage = 4,
}

/// <summary>The answer to an enqueue: a delivery id once the message is durable, or why it was refused.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.EnqueueResult")]
public sealed record EnqueueResult(
    [property: Id(0)] string? DeliveryId,
    [property: Id(1)] bool Duplicate,
    [property: Id(2)] EnqueueRejection Rejection,
    [property: Id(3)] string? Error)
{
    public bool Accepted => Rejection == EnqueueRejection.None;

    public static EnqueueResult Accept(string deliveryId, bool duplicate) => new(deliveryId, duplicate, EnqueueRejection.None, null);
    public static EnqueueResult Reject(EnqueueRejection rejection, string error) => new(null, false, rejection, error);
}
