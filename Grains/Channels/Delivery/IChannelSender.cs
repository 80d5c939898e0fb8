using Dovecote.Grains.Channels.Rendering;
using Polly;

namespace Dovecote.Grains.Channels.Delivery;

/// <summary>One platform's way of turning a notification into chunks and sending one chunk.</summary>
public interface IChannelSender
{
    ChannelType Type { get; }

    /// <summary>
    /// Deterministic: a half-delivered message resumes at its chunk index after a restart. Throws
    /// <see cref="NotificationRenderException"/> (a reason for the agent) when the notification cannot fit <paramref name="limits"/>.
    /// </summary>
    IReadOnlyList<RenderedChunk> Render(Notification notification, RenderLimits limits);

    Task<SendOutcome> SendAsync(SendRequest request, CancellationToken cancellationToken);
}

public sealed record SendRequest(
    string DeliveryId,
    ChannelSettings Settings,
    Notification Notification,
    RenderedChunk Chunk,
    bool AsPlainText,
    ResiliencePipeline<HttpResponseMessage> Pipeline);

/// <summary>Finds the sender of a channel type.</summary>
public sealed class ChannelSenders(IEnumerable<IChannelSender> senders)
{
    private readonly Dictionary<ChannelType, IChannelSender> _byType = senders.ToDictionary(s => s.Type);

    public IChannelSender For(ChannelType type) => _byType[type];
}
