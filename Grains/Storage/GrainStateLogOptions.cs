namespace Dovecote.Grains.Storage;

public sealed class GrainStateLogOptions
{
    /// <summary>Folder holding the lock file, WAL generations and snapshots; created if missing.</summary>
    public required string Directory { get; init; }

    /// <summary>Once the live WAL grows past this size it is sealed and compacted into a snapshot.</summary>
    public long CompactionThresholdBytes { get; init; } = 64L * 1024 * 1024;
}
