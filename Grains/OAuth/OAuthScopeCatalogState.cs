using Dovecote.Grains.Interfaces.OAuth;

namespace Dovecote.Grains.OAuth;

[GenerateSerializer, Alias("dovecote.OAuthScopeCatalogState")]
public sealed class OAuthScopeCatalogState
{
    /// <summary>Scope id → scope.</summary>
    [Id(0)] public Dictionary<string, OAuthScope> Scopes { get; set; } = [];
}
