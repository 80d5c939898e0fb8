using System.ComponentModel.DataAnnotations;
using Dovecote.Grains.Interfaces.OAuth;

namespace Dovecote.Api.OAuth.Registration;

/// <summary>How many self-registered clients may wait for their first token at once (section "OAuth", beside the per-address limit).</summary>
public sealed class RegistrationLimitOptions
{
    /// <summary>
    /// Clients from /register or a metadata document that never got a token; the pruner deletes them after a day. Enforced per
    /// directory shard as ⌈max / 64⌉, so anonymous registrations cannot grow the store without bound however many addresses they use.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxUnusedRegisteredClients { get; set; } = 10_000;

    /// <summary>Well-formed client_ids that name no client, per address and minute, at /authorize and /token; then 400 before any lookup.</summary>
    [Range(1, 100_000)]
    public int UnknownClientIdsPerAddressPerMinute { get; set; } = 20;

    public int MaxUnusedPerShard => (MaxUnusedRegisteredClients + OAuthKeys.DirectoryShardCount - 1) / OAuthKeys.DirectoryShardCount;
}
