namespace Dovecote.Grains.Interfaces.OAuth;

/// <summary>
/// An OAuth client as OpenIddict sees it. <see cref="Id"/> is the client_id (a CIMD client id is its https URL), so
/// a lookup by either is one grain call. Mutable on purpose: the OpenIddict managers set fields on it.
/// </summary>
[GenerateSerializer, Alias("dovecote.OAuthApplication")]
public sealed class OAuthApplication
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public string? ApplicationType { get; set; }
    [Id(2)] public string? ClientId { get; set; }
    [Id(3)] public string? ClientSecret { get; set; }
    [Id(4)] public string? ClientType { get; set; }
    [Id(5)] public string? ConsentType { get; set; }
    [Id(6)] public string? DisplayName { get; set; }
    /// <summary>Keyed by culture name.</summary>
    [Id(7)] public Dictionary<string, string> DisplayNames { get; set; } = [];
    /// <summary>The JWKS as raw JSON.</summary>
    [Id(8)] public string? JsonWebKeySet { get; set; }
    [Id(9)] public List<string> Permissions { get; set; } = [];
    [Id(10)] public List<string> PostLogoutRedirectUris { get; set; } = [];
    [Id(11)] public List<string> RedirectUris { get; set; } = [];
    [Id(12)] public List<string> Requirements { get; set; } = [];
    [Id(13)] public Dictionary<string, string> Settings { get; set; } = [];
    /// <summary>A JSON object, raw, so no JsonElement crosses a grain boundary.</summary>
    [Id(14)] public string? Properties { get; set; }
    [Id(15)] public string ConcurrencyToken { get; set; } = "";
    [Id(16)] public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Set when the first token is issued to this client; unused self-registered clients are pruned.</summary>
    [Id(17)] public DateTimeOffset? LastUsedAt { get; set; }
    /// <summary>One of <see cref="OAuthRegistrationKinds"/>; fixed at creation.</summary>
    [Id(18)] public string RegistrationKind { get; set; } = OAuthRegistrationKinds.Static;
}

/// <summary>How an application came to exist, which decides whether it may be pruned when unused.</summary>
public static class OAuthRegistrationKinds
{
    /// <summary>RFC 7591 dynamic client registration.</summary>
    public const string Dcr = "dcr";
    /// <summary>A Client ID Metadata Document fetched on first use.</summary>
    public const string Cimd = "cimd";
    /// <summary>Provisioned by the operator (POST /admin/bootstrap-client).</summary>
    public const string Bootstrap = "bootstrap";
    /// <summary>Created by any other means, directly through the OpenIddict manager; the default.</summary>
    public const string Static = "static";

    /// <summary>Anyone can create these, so an unused one must not live forever.</summary>
    public static bool IsSelfRegistered(string kind) => kind is Dcr or Cimd;
}
