using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.Channels;

/// <summary>
/// What list_channels shows of every channel of one tenant, keyed "{tenant}": held in memory (rebuilt from the channels when
/// it activates) and kept current by the channels themselves, so a listing is one grain call whatever the channel count.
/// </summary>
[Alias("dovecote.IChannelBoardGrain")]
public interface IChannelBoardGrain : IGrainWithStringKey, ITenantScopedGrain
{
    /// <summary>The most channels one page holds.</summary>
    public const int MaxPageSize = 500;

    /// <summary>
    /// Up to <paramref name="limit"/> (1 to <see cref="MaxPageSize"/>) configured channels listed by the tenant, in ordinal
    /// channel id order, starting after the id <paramref name="after"/> (null: from the first).
    /// </summary>
    [Alias("GetPage"), ReadOnly]
    Task<ChannelBoardPage> GetPageAsync(string? after, int limit);

    /// <summary>A channel's summary as of <see cref="ChannelBoardUpdate.Version"/>; an older one than the board holds is ignored.</summary>
    [Alias("Update"), OneWay]
    Task UpdateAsync(ChannelBoardUpdate update);

    /// <summary>The tenant lists the channel (created through the tenant grain).</summary>
    [Alias("Listed"), OneWay]
    Task ListedAsync(string channelId);

    /// <summary>The tenant no longer lists the channel (deleted through the tenant grain).</summary>
    [Alias("Unlisted"), OneWay]
    Task UnlistedAsync(string channelId);
}

/// <summary>One channel as list_channels shows it: never its settings or errors.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.ChannelBoardEntry")]
public sealed record ChannelBoardEntry(
    [property: Id(0)] string ChannelId,
    [property: Id(1)] ChannelType Type,
    [property: Id(2)] string Name,
    [property: Id(3)] bool Enabled,
    /// <summary><see cref="ChannelInfo.HealthText"/>.</summary>
    [property: Id(4)] string Health,
    [property: Id(5)] int Pending)
{
    public static ChannelBoardEntry Of(ChannelInfo info) => new(info.ChannelId, info.Type, info.Name, info.Enabled, info.HealthText, info.Pending);
}

/// <summary>
/// What a channel tells its board. <see cref="Version"/> grows with every update of one channel (across its activations too:
/// it starts from the clock), so updates that arrive out of order never undo a newer one. A null entry: the channel is deleted.
/// </summary>
[GenerateSerializer, Immutable, Alias("dovecote.ChannelBoardUpdate")]
public sealed record ChannelBoardUpdate(
    [property: Id(0)] string ChannelId,
    [property: Id(1)] long Version,
    [property: Id(2)] ChannelBoardEntry? Entry);

/// <summary>One page of a listing; <see cref="NextAfter"/> is the last id of this page when more follow, else null.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.ChannelBoardPage")]
public sealed record ChannelBoardPage(
    [property: Id(0)] IReadOnlyList<ChannelBoardEntry> Channels,
    [property: Id(1)] string? NextAfter);
