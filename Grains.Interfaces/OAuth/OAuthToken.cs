namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>An issued token's entry, payload included for reference tokens. Mutable on purpose: the OpenIddict managers set fields on it.</summary>
[GenerateSerializer, Alias("dovecote.OAuthToken")]
public sealed class OAuthToken
{
    [Id(0)] public string Id { get; set; } = "";
    /// <summary>The application's Id (its client_id).</summary>
    [Id(1)] public string? ApplicationId { get; set; }
    [Id(2)] public string? AuthorizationId { get; set; }
    [Id(3)] public DateTimeOffset? CreationDate { get; set; }
    [Id(4)] public DateTimeOffset? ExpirationDate { get; set; }
    [Id(5)] public string? Payload { get; set; }
    /// <summary>A JSON object, raw.</summary>
    [Id(6)] public string? Properties { get; set; }
    [Id(7)] public DateTimeOffset? RedemptionDate { get; set; }
    /// <summary>Already obfuscated (SHA-256, base64) by the token manager.</summary>
    [Id(8)] public string? ReferenceId { get; set; }
    [Id(9)] public string? Status { get; set; }
    [Id(10)] public string? Subject { get; set; }
    [Id(11)] public string? Type { get; set; }
    [Id(12)] public string ConcurrencyToken { get; set; } = "";
}
