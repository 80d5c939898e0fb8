using Dovecote.Grains.Interfaces.Accounts;

namespace Dovecote.Grains.Accounts;

/// <summary>
/// A person's profile and the tenants they belong to. Bounded: a display name of 100 characters, an e-mail address of 254 and
/// at most <see cref="AccountGrain.MaxMemberships"/> memberships of about 70 bytes keep it under 10 KB.
/// </summary>
[GenerateSerializer, Alias("dovecote.AccountState")]
public sealed class AccountState
{
    [Id(0)] public string? AccountId { get; set; }
    [Id(1)] public string DisplayName { get; set; } = "";
    [Id(2)] public string? Email { get; set; }
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public DateTimeOffset LastSignInAt { get; set; }
    /// <summary>In ordinal order of tenant id.</summary>
    [Id(5)] public List<Membership> Memberships { get; set; } = [];
    /// <summary>The tenant self-service sign-up chose for this account, kept so a retried sign-up never makes a second one.</summary>
    [Id(6)] public string? SignUpTenant { get; set; }
}
