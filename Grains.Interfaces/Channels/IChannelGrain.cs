using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.Channels;

/// <summary>One delivery destination of one tenant, keyed "{tenant}/{channelId}".</summary>
[Alias("dovecote.IChannelGrain")]
public interface IChannelGrain : IGrainWithStringKey, ITenantScopedGrain
{
    /// <summary>Creates the channel or replaces its settings; pending messages keep their place.</summary>
    [Alias("Configure")]
    Task<ChannelInfo> ConfigureAsync(ChannelConfig config);

    /// <summary>Removes the channel and everything it holds.</summary>
    [Alias("Delete")]
    Task DeleteAsync();

    /// <summary>The channel's public view, or null when it does not exist.</summary>
    [Alias("GetInfo"), ReadOnly]
    Task<ChannelInfo?> GetInfoAsync();

    /// <summary>The channel's line on its tenant's <see cref="IChannelBoardGrain"/>, stamped now (a null entry when it does not exist).</summary>
    [Alias("GetBoardEntry")]
    Task<ChannelBoardUpdate> GetBoardEntryAsync();

    /// <summary>
    /// Accepts a message durably; the same idempotency key within 24 h returns the first delivery id. Interleaves with
    /// other accepts of the channel, so their writes share flushes (a hot channel); the grain orders them itself.
    /// </summary>
    [Alias("Enqueue"), AlwaysInterleave]
    Task<EnqueueResult> EnqueueAsync(Notification notification, string? idempotencyKey);

    /// <summary>A pending, recent or dead-lettered delivery; null when unknown or aged out of history.</summary>
    [Alias("GetDelivery"), ReadOnly]
    Task<DeliveryStatus?> GetDeliveryAsync(string deliveryId);

    /// <summary>Waits up to <paramref name="timeout"/> for the delivery to be delivered or failed, then returns where it stands.</summary>
    [Alias("WaitForDelivery"), AlwaysInterleave]
    Task<DeliveryStatus?> WaitForDeliveryAsync(string deliveryId, TimeSpan timeout);

    /// <summary>Messages given up on, oldest first.</summary>
    [Alias("GetDeadLetters"), ReadOnly]
    Task<IReadOnlyList<DeliveryStatus>> GetDeadLettersAsync();

    /// <summary>Pending deliveries, then the recent finished ones newest first (bounded by the channel's history).</summary>
    [Alias("GetRecentDeliveries"), ReadOnly]
    Task<IReadOnlyList<DeliveryStatus>> GetRecentDeliveriesAsync();

    /// <summary>Queues dead letters again (one, or all when <paramref name="deliveryId"/> is null); returns how many.</summary>
    [Alias("Redrive")]
    Task<int> RedriveAsync(string? deliveryId);
}
