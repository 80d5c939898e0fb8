namespace Dovecote.Grains.OAuth;

[GenerateSerializer, Alias("dovecote.OAuthIndexState")]
public sealed class OAuthIndexState
{
    [Id(0)] public HashSet<string> Ids { get; set; } = [];
}
