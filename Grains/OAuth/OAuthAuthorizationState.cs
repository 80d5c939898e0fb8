using Dovecote.Grains.Interfaces.OAuth;

namespace Dovecote.Grains.OAuth;

[GenerateSerializer, Alias("dovecote.OAuthAuthorizationState")]
public sealed class OAuthAuthorizationState
{
    /// <summary>Null until created and after deletion.</summary>
    [Id(0)] public OAuthAuthorization? Authorization { get; set; }
}
