using Dovecote.Grains.Interfaces.OAuth;

namespace Dovecote.Grains.OAuth;

[GenerateSerializer, Alias("dovecote.OAuthTokenState")]
public sealed class OAuthTokenState
{
    /// <summary>Null until created and after deletion.</summary>
    [Id(0)] public OAuthToken? Token { get; set; }
}
