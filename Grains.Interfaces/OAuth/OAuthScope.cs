namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>A scope as OpenIddict sees it. Mutable on purpose: the OpenIddict managers set fields on it.</summary>
[GenerateSerializer, Alias("dovecote.OAuthScope")]
public sealed class OAuthScope
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public string? Name { get; set; }
    [Id(2)] public string? Description { get; set; }
    /// <summary>Keyed by culture name.</summary>
    [Id(3)] public Dictionary<string, string> Descriptions { get; set; } = [];
    [Id(4)] public string? DisplayName { get; set; }
    /// <summary>Keyed by culture name.</summary>
    [Id(5)] public Dictionary<string, string> DisplayNames { get; set; } = [];
    /// <summary>A JSON object, raw.</summary>
    [Id(6)] public string? Properties { get; set; }
    [Id(7)] public List<string> Resources { get; set; } = [];
    [Id(8)] public string ConcurrencyToken { get; set; } = "";
}
