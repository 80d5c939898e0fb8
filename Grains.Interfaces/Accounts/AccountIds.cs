using System.Text.RegularExpressions;
using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.Accounts;

/// <summary>
/// Account ids: "{provider}:{subject}" for a person signed in upstream ("github:583231", "oidc:2f9c..."), and
/// "password:{tenant}" for whoever holds a tenant's password (a session, never an account grain).
/// </summary>
public static partial class AccountIds
{
    public const string PasswordProvider = "password";
    public const int MaxLength = 200;

    public static string Of(string provider, string subject) => $"{provider}:{subject}";

    public static string Password(string tenant) => Of(PasswordProvider, tenant);

    /// <summary>A provider name ([a-z0-9-]) and a subject of printable ASCII without spaces, at most 200 characters in all.</summary>
    public static bool IsValid(string? accountId) => accountId is { Length: <= MaxLength } && Pattern().IsMatch(accountId);

    /// <summary>The tenant of a "password:{tenant}" id, or null for any other id.</summary>
    public static string? PasswordTenant(string accountId) =>
        accountId.StartsWith(PasswordProvider + ":", StringComparison.Ordinal) && accountId[(PasswordProvider.Length + 1)..] is var tenant
            && GrainKeys.IsValidTenant(tenant) ? tenant : null;

    /// <summary>The account grain's key: the id hashed by <see cref="GrainKeys.Part"/> (':' is not kept verbatim); the state keeps the id.</summary>
    public static string GrainKey(string accountId) => GrainKeys.Part(accountId);

    /// <summary>"{tenant}/members": the tenant's member list and invitations.</summary>
    public static string Members(string tenant) => $"{tenant}/members";

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,31}:[!-~]{1,160}\z")]
    private static partial Regex Pattern();
}
