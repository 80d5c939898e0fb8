using Dovecote.Grains.Interfaces.OAuth;

namespace Dovecote.Grains.OAuth;

[GenerateSerializer, Alias("dovecote.OAuthApplicationState")]
public sealed class OAuthApplicationState
{
    /// <summary>Null until created and after deletion.</summary>
    [Id(0)] public OAuthApplication? Application { get; set; }
}
