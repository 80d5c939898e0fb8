using System.Security.Cryptography;
using System.Text;
using Dovecote.Api.Audit;
using Dovecote.Grains.Interfaces.Accounts;

namespace Dovecote.Api.Accounts;

/// <summary>
/// Signs a person the provider vouched for into their account: the account grain records them, self-service sign-up (when
/// the operator turned it on) gives a person with no tenant a tenant of their own, and the session cookie is set.
/// </summary>
public sealed class AccountSignIn(IGrainFactory grains, IOptions<AccountOptions> options, AuditTrail audit, ILogger<AccountSignIn> logger)
{
    public async Task SignInAsync(HttpContext http, UpstreamIdentity.Allowed person)
    {
        var account = grains.GetGrain<IAccountGrain>(AccountIds.GrainKey(person.AccountId));
        await account.SignInAsync(person.AccountId, person.DisplayName, person.Email);
        if (options.Value.SignUp && (await account.GetMembershipsAsync()).Count == 0)
        {
            try
            {
                await SignUpAsync(http, account, person);
            }
            catch (ArgumentException refused)
            {
                // The service is full (the tenant directory's bound): the person still signs in, with no tenant until invited.
                logger.LogWarning("Sign-up of {Account} refused: {Reason}", person.AccountId, refused.Message);
                await audit.RecordAsync(AuditTrail.SystemTenant, person.AccountId, "account.signup.refused", person.Handle, refused.Message, http);
            }
        }
        await AccountSession.SignInAsync(http, person.AccountId, person.DisplayName);
        await audit.RecordAsync(AuditTrail.SystemTenant, person.AccountId, "account.signin", person.Handle, null, http);
    }

    /// <summary>
    /// A tenant of the person's own, as its owner. Its id is the handle made tenant-shaped with a random suffix, so it can
    /// never land on an existing tenant; the tenant directory's bound (the tenant limit) refuses it when the service is full.
    /// </summary>
    private async Task SignUpAsync(HttpContext http, IAccountGrain account, UpstreamIdentity.Allowed person)
    {
        var displayName = $"{person.DisplayName}'s tenant";
        var chosen = await account.SignUpAsync(NewTenantId(person.Handle), displayName.Length <= 100 ? displayName : displayName[..100]);
        using (TenantContext.Enter(chosen))
            await grains.GetGrain<ITenantMembersGrain>(AccountIds.Members(chosen)).AddAsync(person.AccountId, person.DisplayName, TenantRole.Owner);
        await audit.RecordAsync(chosen, person.AccountId, "account.signup", chosen, null, http);
        logger.LogInformation("Account {Account} signed up with tenant {Tenant}", person.AccountId, chosen);
    }

    private static string NewTenantId(string handle)
    {
        var slug = new StringBuilder();
        foreach (var c in handle.ToLowerInvariant())
        {
            if (c == '@') break; // an e-mail address: its local part
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-') slug.Append('-');
            if (slug.Length >= 40) break;
        }
        var stem = slug.ToString().Trim('-');
        return $"{(stem.Length > 0 ? stem : "tenant")}-{RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 6)}";
    }
}
