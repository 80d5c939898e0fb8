using Dovecote.Grains.Interfaces.Accounts;

namespace Dovecote.Api.Accounts;

/// <summary>The tenants a signed-in person may act for, read from the grains on every call (never from the cookie).</summary>
public sealed class AccountMemberships(IGrainFactory grains)
{
    /// <summary>
    /// The person's memberships, in ordinal order of tenant: for a tenant-password session exactly that tenant as owner; for
    /// an account what its account grain lists. Empty for a principal that is not a session.
    /// </summary>
    public async Task<IReadOnlyList<Membership>> ForAsync(ClaimsPrincipal user)
    {
        if (AccountSession.AccountOf(user) is not { } account) return [];
        if (AccountIds.PasswordTenant(account) is { } tenant) return [new Membership(tenant, TenantRole.Owner)];
        return await grains.GetGrain<IAccountGrain>(AccountIds.GrainKey(account)).GetMembershipsAsync();
    }

    /// <summary>
    /// The person's role in <paramref name="tenant"/>, asked of the tenant's member grain (the authority), or null when they
    /// are not a member. Check this before acting for a tenant the person picked.
    /// </summary>
    public async Task<TenantRole?> RoleInAsync(ClaimsPrincipal user, string? tenant)
    {
        if (AccountSession.AccountOf(user) is not { } account || !GrainKeys.IsValidTenant(tenant)) return null;
        if (AccountIds.PasswordTenant(account) is { } own) return own == tenant ? TenantRole.Owner : null;
        using var scope = TenantContext.Enter(tenant!);
        return await grains.GetGrain<ITenantMembersGrain>(AccountIds.Members(tenant!)).GetRoleAsync(account);
    }
}
