using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Grains.Interfaces.Accounts;

/// <summary>
/// A tenant's members and open invitations, keyed "{tenant}/members" (<see cref="AccountIds.Members"/>): the authority on
/// who belongs to the tenant. Bad input throws <see cref="ArgumentException"/> with the reason.
/// </summary>
[Alias("dovecote.ITenantMembersGrain")]
public interface ITenantMembersGrain : IGrainWithStringKey, ITenantScopedGrain
{
    [Alias("List"), ReadOnly]
    Task<IReadOnlyList<TenantMember>> ListAsync();

    /// <summary>The account's role here, or null when it is not a member.</summary>
    [Alias("GetRole"), ReadOnly]
    Task<TenantRole?> GetRoleAsync(string accountId);

    /// <summary>Adds the account (or changes its role). The tenant must exist; the last owner cannot be made a member.</summary>
    [Alias("Add")]
    Task AddAsync(string accountId, string displayName, TenantRole role);

    /// <summary>Removes the account; false when it was not a member. The last owner cannot be removed.</summary>
    [Alias("Remove")]
    Task<bool> RemoveAsync(string accountId);

    /// <summary>
    /// An invitation by link for <paramref name="role"/>, valid for <paramref name="lifetime"/>: only the SHA-256 of its secret is kept;
    /// the token is returned once.
    /// </summary>
    [Alias("Invite")]
    Task<CreatedInvitation> InviteAsync(TenantRole role, string invitedBy, TimeSpan lifetime);

    /// <summary>The invitations not yet accepted, expired ones included until they are pruned.</summary>
    [Alias("ListInvitations"), ReadOnly]
    Task<IReadOnlyList<InvitationInfo>> ListInvitationsAsync();

    /// <summary>Withdraws an invitation; false when there is no such open invitation.</summary>
    [Alias("RevokeInvitation")]
    Task<bool> RevokeInvitationAsync(string invitationId);

    /// <summary>
    /// Makes the account a member when <paramref name="secret"/> matches the open invitation <paramref name="invitationId"/>
    /// (compared in constant time) and it has not expired. An invitation is used once: accepted or refused for a wrong secret, never again.
    /// </summary>
    [Alias("Accept")]
    Task<InvitationOutcome> AcceptAsync(string invitationId, string secret, string accountId, string displayName);
}

[GenerateSerializer, Immutable, Alias("dovecote.TenantMember")]
public sealed record TenantMember(
    [property: Id(0)] string AccountId,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] TenantRole Role,
    [property: Id(3)] DateTimeOffset AddedAt);

[GenerateSerializer, Immutable, Alias("dovecote.InvitationInfo")]
public sealed record InvitationInfo(
    [property: Id(0)] string InvitationId,
    [property: Id(1)] TenantRole Role,
    [property: Id(2)] string InvitedBy,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset ExpiresAt);

/// <summary>A new invitation: <see cref="Token"/> (for the link) is shown once and never stored.</summary>
[GenerateSerializer, Immutable, Alias("dovecote.CreatedInvitation")]
public sealed record CreatedInvitation([property: Id(0)] InvitationInfo Info, [property: Id(1)] string Token)
{
    public override string ToString() => $"CreatedInvitation {{ {Info.InvitationId}, Token = **** }}";
}

[GenerateSerializer, Alias("dovecote.InvitationOutcome")]
public enum InvitationOutcome
{
    Accepted = 0,
    /// <summary>No such open invitation: never issued, withdrawn, or used already.</summary>
    Unknown = 1,
    Expired = 2,
    /// <summary>The account belonged to the tenant already; the invitation is used up all the same.</summary>
    AlreadyMember = 3,
}

/// <summary>Invitation tokens: "dvi_{tenant}_{invitationId}_{secret}", so the link alone says which tenant's grain to ask.</summary>
public static class InvitationTokens
{
    public const string Prefix = "dvi_";

    public static string Format(string tenant, string invitationId, string secret) => $"{Prefix}{tenant}_{invitationId}_{secret}";

    /// <summary>False when the text is not shaped like an invitation token (tenant ids hold no '_').</summary>
    public static bool TryParse(string? token, out string tenant, out string invitationId, out string secret)
    {
        tenant = invitationId = secret = "";
        if (token is not { Length: > 4 and <= 200 } || !token.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var parts = token[Prefix.Length..].Split('_', 3);
        if (parts.Length != 3 || !GrainKeys.IsValidTenant(parts[0]) || parts[1].Length is < 8 or > 32 || parts[2].Length < 20) return false;
        (tenant, invitationId, secret) = (parts[0], parts[1], parts[2]);
        return true;
    }
}
