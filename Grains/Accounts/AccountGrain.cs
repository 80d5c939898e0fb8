using Dovecote.Grains.Interfaces.Accounts;
using Dovecote.Grains.Storage;

namespace Dovecote.Grains.Accounts;

/// <summary>One person, keyed by the hash of "{provider}:{subject}"; the state keeps the id itself.</summary>
[GrainType("account")]
public sealed class AccountGrain(
    [PersistentState("account")] IPersistentState<AccountState> state,
    TimeProvider time) : Grain, IAccountGrain
{
    public const int MaxMemberships = 100;
    public const int MaxDisplayName = 100;
    public const int MaxEmail = 254;

    private List<Membership> Memberships => state.State.Memberships;

    async Task<AccountInfo> IAccountGrain.SignInAsync(string accountId, string displayName, string? email)
    {
        if (!AccountIds.IsValid(accountId) || AccountIds.GrainKey(accountId) != this.GetPrimaryKeyString())
            throw new ArgumentException("the account id does not match this account");
        if (AccountIds.PasswordTenant(accountId) is not null)
            throw new ArgumentException("a tenant password is a session, not an account");
        var now = time.GetUtcNow();
        if (state.State.AccountId is null)
        {
            state.State.AccountId = accountId;
            state.State.CreatedAt = now;
        }
        state.State.DisplayName = Clip(string.IsNullOrWhiteSpace(displayName) ? accountId : displayName.Trim(), MaxDisplayName);
        state.State.Email = email is { Length: > 0 and <= MaxEmail } ? email : null;
        state.State.LastSignInAt = now;
        await state.WriteOrReloadAsync(this);
        return Info();
    }

    Task<AccountInfo?> IAccountGrain.GetAsync() => Task.FromResult(state.State.AccountId is null ? null : Info());

    Task<IReadOnlyList<Membership>> IAccountGrain.GetMembershipsAsync() => Task.FromResult<IReadOnlyList<Membership>>(Memberships.ToList());

    async Task IAccountGrain.AddMembershipAsync(string tenant, TenantRole role)
    {
        EnsureExists();
        if (!GrainKeys.IsValidTenant(tenant)) throw new ArgumentException("tenant is not a valid tenant id");
        var at = IndexOf(tenant);
        if (at >= 0)
        {
            if (Memberships[at].Role == role) return;
            Memberships[at] = new Membership(tenant, role);
        }
        else
        {
            if (Memberships.Count >= MaxMemberships)
                throw new ArgumentException($"an account may belong to {MaxMemberships} tenants; leave one first");
            Memberships.Insert(~at, new Membership(tenant, role));
        }
        await state.WriteOrReloadAsync(this);
    }

    async Task IAccountGrain.RemoveMembershipAsync(string tenant)
    {
        var at = tenant is null ? -1 : IndexOf(tenant);
        if (at < 0) return;
        Memberships.RemoveAt(at);
        await state.WriteOrReloadAsync(this);
    }

    async Task<string> IAccountGrain.SignUpAsync(string tenant, string displayName)
    {
        EnsureExists();
        if (state.State.SignUpTenant is null)
        {
            if (!GrainKeys.IsValidTenant(tenant)) throw new ArgumentException("tenant is not a valid tenant id");
            // Kept before the tenant exists: a failure below is finished by the next sign-in, under the same id.
            state.State.SignUpTenant = tenant;
            await state.WriteOrReloadAsync(this);
        }
        var chosen = state.State.SignUpTenant;
        using (TenantContext.Enter(chosen))
            await GrainFactory.GetGrain<ITenantGrain>(chosen).CreateAsync(displayName, state.State.AccountId!);
        // The caller then makes the account the tenant's owner through the member grain, which records it back here (a
        // call from this turn would deadlock on this grain).
        return chosen;
    }

    private int IndexOf(string tenant) =>
        Memberships.BinarySearch(new Membership(tenant, TenantRole.Member), Comparer<Membership>.Create((a, b) => string.CompareOrdinal(a.Tenant, b.Tenant)));

    private void EnsureExists()
    {
        if (state.State.AccountId is null) throw new NotFoundException("the account does not exist");
    }

    private AccountInfo Info() => new(state.State.AccountId!, state.State.DisplayName, state.State.Email, state.State.CreatedAt,
        state.State.LastSignInAt, Memberships.Count);

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}
