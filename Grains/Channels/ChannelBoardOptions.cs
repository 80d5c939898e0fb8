using System.ComponentModel.DataAnnotations;

namespace Dovecote.Grains.Channels;

/// <summary>How channels keep their tenant's board current (docs/architecture.md, "Channel board"). Section "ChannelBoard".</summary>
public sealed class ChannelBoardOptions
{
    public const string Section = "ChannelBoard";

    /// <summary>
    /// At most one pending-count update per channel per this interval (the first goes at once): the board's pending count
    /// lags by at most this much. Configuration, enabling and health changes are sent at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PendingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Channels a board asks at once when it rebuilds after activating.</summary>
    [Range(1, 256)]
    public int RebuildConcurrency { get; set; } = 32;
}
