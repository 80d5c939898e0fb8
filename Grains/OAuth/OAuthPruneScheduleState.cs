namespace Dovecote.Grains.OAuth;

[GenerateSerializer, Alias("dovecote.OAuthPruneScheduleState")]
public sealed class OAuthPruneScheduleState
{
    /// <summary>Bucket key → when it falls due.</summary>
    [Id(0)] public Dictionary<string, DateTimeOffset> Buckets { get; set; } = [];
}
