using System.Text.Json.Serialization;

namespace Dovecote.Grains.Interfaces.Tenants;

/// <summary>What a tenant may use: the operator's values where set, the configured defaults (Tenants__*) elsewhere.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.TenantLimits")]
public sealed record TenantLimits(
    [property: Id(0)] int SendsPerMinute,
    [property: Id(1)] int Channels,
    [property: Id(2)] int ApiKeys,
    // "oauthClients", not the camel case "oAuthClients", in the admin API's JSON.
    [property: Id(3), JsonPropertyName("oauthClients")] int OAuthClients);

/// <summary>The operator's own values for a tenant; a null member follows the configured default.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.TenantLimitOverrides")]
public sealed record TenantLimitOverrides(
    [property: Id(0)] int? SendsPerMinute = null,
    [property: Id(1)] int? Channels = null,
    [property: Id(2)] int? ApiKeys = null,
    [property: Id(3), JsonPropertyName("oauthClients")] int? OAuthClients = null);
