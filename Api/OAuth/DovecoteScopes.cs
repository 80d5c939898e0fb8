using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Dovecote.Api.OAuth;

/// <summary>The OAuth scopes Dovecote grants, named once. No scope here reaches /admin: that takes the operator token.</summary>
public static class DovecoteScopes
{
    /// <summary>Send notifications, list channels, check on deliveries.</summary>
    public const string Notify = "dovecote:notify";

    /// <summary>Read the tenant's env profiles: high privilege, warned about on the consent page, audited.</summary>
    public const string EnvRead = "dovecote:env:read";

    /// <summary>Asks for a refresh token; every consent grants it.</summary>
    public const string OfflineAccess = Scopes.OfflineAccess;

    /// <summary>What /mcp accepts (RFC 9728 scopes_supported), and what an API key carries.</summary>
    public static IReadOnlyList<string> Resource { get; } = [Notify, EnvRead];

    /// <summary>Everything a client may register for and be granted: the resource scopes and offline_access.</summary>
    public static IReadOnlyList<string> Grantable { get; } = [Notify, EnvRead, OfflineAccess];
}
