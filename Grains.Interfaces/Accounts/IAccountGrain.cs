namespace Dovecote.Grains.Interfaces.Accounts;

/// <summary>
/// A person known through an upstream identity, keyed <see cref="AccountIds.GrainKey"/>: their profile and the list of
/// tenants they belong to. The list is an index kept by the tenants' member grains, which stay the authority on membership.
/// Not tenant-scoped: an account spans tenants.
/// </summary>
[Alias("dovecote.IAccountGrain")]
public interface IAccountGrain : IGrainWithStringKey
{
    /// <summary>Creates the account on its first sign-in, or refreshes its profile; <paramref name="accountId"/> must match the key.</summary>
    [Alias("SignIn")]
    Task<AccountInfo> SignInAsync(string accountId, string displayName, string? email);

    /// <summary>The account, or null when it never signed in.</summary>
    [Alias("Get"), ReadOnly]
    Task<AccountInfo?> GetAsync();

    /// <summary>The tenants the account belongs to, in ordinal order of tenant id.</summary>
    [Alias("GetMemberships"), ReadOnly]
    Task<IReadOnlyList<Membership>> GetMembershipsAsync();

    /// <summary>Records a membership (or its new role). Called by the tenant's member grain only.</summary>
    [Alias("AddMembership")]
    Task AddMembershipAsync(string tenant, TenantRole role);

    /// <summary>Forgets a membership. Called by the tenant's member grain only.</summary>
    [Alias("RemoveMembership")]
    Task RemoveMembershipAsync(string tenant);

    /// <summary>
    /// Self-service sign-up: creates tenant <paramref name="tenant"/> (refused if it exists or the tenant directory is full) with
    /// this account as its owner. Once an account has signed up, later calls return the tenant it got and create nothing.
    /// </summary>
    [Alias("SignUp")]
    Task<string> SignUpAsync(string tenant, string displayName);
}

[GenerateSerializer, Immutable, Alias("dovecote.AccountInfo")]
public sealed record AccountInfo(
    [property: Id(0)] string AccountId,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] string? Email,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset LastSignInAt,
    [property: Id(5)] int Memberships);
