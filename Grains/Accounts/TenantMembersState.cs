using Dovecote.Grains.Interfaces.Accounts;

namespace Dovecote.Grains.Accounts;

/// <summary>
/// A tenant's members and open invitations. Bounded: <see cref="TenantMembersGrain.MaxMembers"/> members of at most about
/// 330 bytes and <see cref="TenantMembersGrain.MaxOpenInvitations"/> invitations of about 300 keep it under 100 KB.
/// </summary>
[GenerateSerializer, Alias("dovecote.TenantMembersState")]
public sealed class TenantMembersState
{
    [Id(0)] public List<TenantMember> Members { get; set; } = [];
    [Id(1)] public List<InvitationEntry> Invitations { get; set; } = [];
}

/// <summary>An open invitation: the SHA-256 of its secret, never the secret.</summary>
[GenerateSerializer, Alias("dovecote.InvitationEntry")]
public sealed record InvitationEntry(
    [property: Id(0)] string InvitationId,
    [property: Id(1)] TenantRole Role,
    [property: Id(2)] string InvitedBy,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] byte[] SecretHash);
