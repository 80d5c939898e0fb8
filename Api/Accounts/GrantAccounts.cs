using System.Text.Json;

namespace Dovecote.Api.Accounts;

/// <summary>Which account approved an OAuth grant: a claim in its tokens and a property of its authorization entry.</summary>
public static class GrantAccounts
{
    public const string AccountClaim = AccountSession.AccountClaim;
    public const string AccountProperty = "dovecote_account";

    public static void Record(OpenIddictAuthorizationDescriptor descriptor, string account) =>
        descriptor.Properties[AccountProperty] = JsonSerializer.SerializeToElement(account);

    /// <summary>The approving account, or null for a grant made before accounts.</summary>
    public static async Task<string?> OfAsync(IOpenIddictAuthorizationManager authorizations, object authorization, CancellationToken cancellationToken) =>
        (await authorizations.GetPropertiesAsync(authorization, cancellationToken)).TryGetValue(AccountProperty, out var value)
            && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
