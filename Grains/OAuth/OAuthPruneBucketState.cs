namespace Dovecote.Grains.OAuth;

[GenerateSerializer, Alias("dovecote.OAuthPruneBucketState")]
public sealed class OAuthPruneBucketState
{
    [Id(0)] public HashSet<string> Ids { get; set; } = [];
}
