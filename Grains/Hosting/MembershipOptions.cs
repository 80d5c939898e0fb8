using System.ComponentModel.DataAnnotations;

namespace Dovecote.Grains.Hosting;

/// <summary>
/// How fast a silo that stopped answering is declared dead (section "Membership", env Membership__ProbeTimeout ...).
/// Orleans' defaults (5 s probes, 3 misses) take 11–14 s for a killed process and about a minute for a hung one; ours take
/// about 3 s and 15 s on loopback, short enough that a channel on a dead silo is back well within a client's retry.
/// </summary>
public sealed class MembershipOptions
{
    public const string Section = "Membership";

    [Range(typeof(TimeSpan), "00:00:00.500", "00:01:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    [Range(1, 10)]
    public int MissedProbesLimit { get; set; } = 2;

    /// <summary>How long dead silos stay in the membership table before they are swept.</summary>
    [Range(typeof(TimeSpan), "00:10:00", "7.00:00:00")]
    public TimeSpan DefunctSiloExpiration { get; set; } = TimeSpan.FromHours(1);
}
