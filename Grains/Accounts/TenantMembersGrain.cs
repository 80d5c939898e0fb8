using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Dovecote.Grains.Interfaces.Accounts;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.Accounts;

/// <summary>
/// Who belongs to a tenant, keyed "{tenant}/members". It is the authority on membership: the accounts' lists are indexes,
/// written before it on an add and after it on a removal, so a failure in between leaves an account listing a tenant that
/// refuses it, never a member the account does not know of.
/// </summary>
[GrainType("tenant-members")]
public sealed class TenantMembersGrain(
    [PersistentState("tenant-members")] IPersistentState<TenantMembersState> state,
    TimeProvider time,
    ILogger<TenantMembersGrain> logger) : Grain, ITenantMembersGrain
{
    public const int MaxMembers = 200;
    public const int MaxOpenInvitations = 50;
    public static readonly TimeSpan MaxInvitationLifetime = TimeSpan.FromDays(30);
    private const int InvitationIdLength = 12;
    private const string InvitationIdAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
    private const int MaxInvitedBy = 200;

    private string Tenant => GrainKeys.TenantOf(this.GetPrimaryKeyString())!;
    private List<TenantMember> Members => state.State.Members;
    private List<InvitationEntry> Invitations => state.State.Invitations;

    Task<IReadOnlyList<TenantMember>> ITenantMembersGrain.ListAsync() => Task.FromResult<IReadOnlyList<TenantMember>>(Members.ToList());

    Task<TenantRole?> ITenantMembersGrain.GetRoleAsync(string accountId) => Task.FromResult(Find(accountId)?.Role);

    async Task ITenantMembersGrain.AddAsync(string accountId, string displayName, TenantRole role)
    {
        await EnsureTenantExistsAsync();
        await AddAsync(accountId, displayName, role);
    }

    async Task<bool> ITenantMembersGrain.RemoveAsync(string accountId)
    {
        var member = Find(accountId);
        if (member is null) return false;
        if (member.Role == TenantRole.Owner && Members.Count(m => m.Role == TenantRole.Owner) == 1)
            throw new ArgumentException("the tenant's last owner cannot be removed; make another member an owner first");
        Members.Remove(member);
        await state.WriteOrReloadAsync(this);
        // After the authority: should this fail, the account lists a tenant that no longer has it, and a retry tidies it.
        await GrainFactory.GetGrain<IAccountGrain>(AccountIds.GrainKey(accountId)).RemoveMembershipAsync(Tenant);
        logger.LogInformation("Tenant {Tenant}: member {Account} removed", Tenant, accountId);
        return true;
    }

    async Task<CreatedInvitation> ITenantMembersGrain.InviteAsync(TenantRole role, string invitedBy, TimeSpan lifetime)
    {
        await EnsureTenantExistsAsync();
        if (!Enum.IsDefined(role)) throw new ArgumentException("role must be owner or member");
        if (string.IsNullOrEmpty(invitedBy) || invitedBy.Length > MaxInvitedBy) throw new ArgumentException($"invitedBy must be 1 to {MaxInvitedBy} characters");
        if (lifetime <= TimeSpan.Zero || lifetime > MaxInvitationLifetime)
            throw new ArgumentException($"an invitation lives at most {MaxInvitationLifetime.TotalDays:0} days");
        var now = time.GetUtcNow();
        Invitations.RemoveAll(i => i.ExpiresAt <= now);
        if (Invitations.Count >= MaxOpenInvitations)
            throw new ArgumentException($"tenant '{Tenant}' has {MaxOpenInvitations} open invitations; withdraw one first");

        var id = RandomNumberGenerator.GetString(InvitationIdAlphabet, InvitationIdLength);
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var entry = new InvitationEntry(id, role, invitedBy, now, now + lifetime, Hash(secret));
        Invitations.Add(entry);
        await state.WriteOrReloadAsync(this);
        logger.LogInformation("Tenant {Tenant}: invitation {Invitation} ({Role}) created", Tenant, id, role);
        return new CreatedInvitation(ToInfo(entry), InvitationTokens.Format(Tenant, id, secret));
    }

    Task<IReadOnlyList<InvitationInfo>> ITenantMembersGrain.ListInvitationsAsync() =>
        Task.FromResult<IReadOnlyList<InvitationInfo>>(Invitations.Select(ToInfo).ToList());

    async Task<bool> ITenantMembersGrain.RevokeInvitationAsync(string invitationId)
    {
        if (Invitations.RemoveAll(i => i.InvitationId == invitationId) == 0) return false;
        await state.WriteOrReloadAsync(this);
        return true;
    }

    async Task<InvitationOutcome> ITenantMembersGrain.AcceptAsync(string invitationId, string secret, string accountId, string displayName)
    {
        var entry = Invitations.Find(i => i.InvitationId == invitationId);
        if (entry is null) return InvitationOutcome.Unknown;
        // Used once whatever happens next: a wrong secret burns the invitation, so it cannot be guessed at.
        Invitations.Remove(entry);
        var outcome = !CryptographicOperations.FixedTimeEquals(Hash(secret ?? ""), entry.SecretHash) ? InvitationOutcome.Unknown
            : entry.ExpiresAt <= time.GetUtcNow() ? InvitationOutcome.Expired
            : Find(accountId) is not null ? InvitationOutcome.AlreadyMember
            : InvitationOutcome.Accepted;
        if (outcome == InvitationOutcome.Accepted)
        {
            await EnsureTenantExistsAsync();
            await AddAsync(accountId, displayName, entry.Role); // writes the state, with the invitation gone
        }
        else await state.WriteOrReloadAsync(this);
        logger.LogInformation("Tenant {Tenant}: invitation {Invitation} {Outcome}", Tenant, invitationId, outcome);
        return outcome;
    }

    private async Task AddAsync(string accountId, string displayName, TenantRole role)
    {
        if (!AccountIds.IsValid(accountId) || AccountIds.PasswordTenant(accountId) is not null)
            throw new ArgumentException("accountId is not an account id ({provider}:{subject})");
        if (!Enum.IsDefined(role)) throw new ArgumentException("role must be owner or member");
        var existing = Find(accountId);
        if (existing is null && Members.Count >= MaxMembers)
            throw new ArgumentException($"tenant '{Tenant}' may have {MaxMembers} members; remove one first");
        if (existing is { Role: TenantRole.Owner } && role != TenantRole.Owner && Members.Count(m => m.Role == TenantRole.Owner) == 1)
            throw new ArgumentException("the tenant's last owner cannot become a member; make another member an owner first");

        // The account's index first: it refuses an account with too many tenants before the authority says yes.
        await GrainFactory.GetGrain<IAccountGrain>(AccountIds.GrainKey(accountId)).AddMembershipAsync(Tenant, role);
        var name = string.IsNullOrWhiteSpace(displayName) ? accountId : displayName.Length > 100 ? displayName[..100] : displayName;
        if (existing is not null) Members.Remove(existing);
        Members.Add(new TenantMember(accountId, name, role, existing?.AddedAt ?? time.GetUtcNow()));
        await state.WriteOrReloadAsync(this);
        logger.LogInformation("Tenant {Tenant}: member {Account} is {Role}", Tenant, accountId, role);
    }

    private async Task EnsureTenantExistsAsync()
    {
        if (await GrainFactory.GetGrain<ITenantGrain>(Tenant).GetAsync() is null) throw new NotFoundException($"tenant '{Tenant}' does not exist");
    }

    private TenantMember? Find(string? accountId) => accountId is null ? null : Members.Find(m => m.AccountId == accountId);

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static InvitationInfo ToInfo(InvitationEntry entry) => new(entry.InvitationId, entry.Role, entry.InvitedBy, entry.CreatedAt, entry.ExpiresAt);
}
