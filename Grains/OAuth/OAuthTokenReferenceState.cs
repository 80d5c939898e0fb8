namespace Dovecote.Grains.OAuth;

[GenerateSerializer, Alias("dovecote.OAuthTokenReferenceState")]
public sealed class OAuthTokenReferenceState
{
    [Id(0)] public string? TokenId { get; set; }
}
