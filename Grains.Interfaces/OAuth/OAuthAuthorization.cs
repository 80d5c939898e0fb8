namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>A user's grant to a client, as OpenIddict sees it. Mutable on purpose: the OpenIddict managers set fields on it.</summary>
[GenerateSerializer, Alias("dovecote.OAuthAuthorization")]
public sealed class OAuthAuthorization
{
    [Id(0)] public string Id { get; set; } = "";
    /// <summary>The application's Id (its client_id).</summary>
    [Id(1)] public string? ApplicationId { get; set; }
    [Id(2)] public DateTimeOffset? CreationDate { get; set; }
    /// <summary>A JSON object, raw.</summary>
    [Id(3)] public string? Properties { get; set; }
    [Id(4)] public List<string> Scopes { get; set; } = [];
    [Id(5)] public string? Status { get; set; }
    [Id(6)] public string? Subject { get; set; }
    [Id(7)] public string? Type { get; set; }
    [Id(8)] public string ConcurrencyToken { get; set; } = "";
}
