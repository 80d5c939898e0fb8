using Dovecote.Grains.Interfaces.OAuth;

namespace Dovecote.Grains.OAuth;

[GenerateSerializer, Alias("dovecote.OAuthApplicationDirectoryState")]
public sealed class OAuthApplicationDirectoryState
{
    [Id(0)] public Dictionary<string, OAuthDirectoryEntry> Entries { get; set; } = [];
    /// <summary>Set once the pruner's reminder has been ensured, so later registrations skip the call.</summary>
    [Id(1)] public bool PrunerStarted { get; set; }
}
