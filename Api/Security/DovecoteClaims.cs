namespace Dovecote.Api.Security;

/// <summary>The claims every authenticated caller carries, whatever the credential.</summary>
public static class DovecoteClaims
{
    public const string Tenant = "dovecote_tenant";
    public const string Scope = "scope";

    /// <summary>Who acts, for the audit trail: "apikey:{id}" or "oauth:{client_id}".</summary>
    public const string Actor = "dovecote_actor";

    /// <summary>OpenIddict's form of granted scopes: one claim per scope.</summary>
    private const string OpenIddictScope = "oi_scp";

    // The MCP tools name scopes through these; the scopes themselves are listed in DovecoteScopes.
    public const string NotifyScope = OAuth.DovecoteScopes.Notify;
    public const string EnvReadScope = OAuth.DovecoteScopes.EnvRead;

    public static string TenantOf(ClaimsPrincipal user) =>
        user.FindFirstValue(Tenant) ?? throw new InvalidOperationException("The caller carries no tenant.");

    /// <summary>The caller's tenant, or a tool error naming the missing scope.</summary>
    public static string RequireScope(ClaimsPrincipal user, string scope) =>
        HasScope(user, scope) ? TenantOf(user) : throw new ModelContextProtocol.McpException($"this credential lacks the '{scope}' scope");

    public static bool HasScope(ClaimsPrincipal user, string scope) =>
        user.FindAll(Scope).Any(c => c.Value.Split(' ').Contains(scope, StringComparer.Ordinal))
        || user.FindAll(OpenIddictScope).Any(c => c.Value == scope);

    public static string ActorOf(ClaimsPrincipal user) => user.FindFirstValue(Actor) ?? user.FindFirstValue("sub") ?? "unknown";
}
