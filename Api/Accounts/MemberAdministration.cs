using Dovecote.Api.Audit;
using Dovecote.Grains.Interfaces.Accounts;

namespace Dovecote.Api.Accounts;

/// <summary>
/// Changes to a tenant's people that reach beyond the member grain, each audited in the tenant: invitations by link, and
/// removals, which also revoke the OAuth grants the member approved in that tenant (through the authorization manager, as
/// the operator's grant revoke does), so their connected apps are refused at the next /mcp call. For the console and tests.
/// </summary>
public sealed class MemberAdministration(
    IGrainFactory grains,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    OAuth.PublicUrl publicUrl,
    AuditTrail audit)
{
    public const string AcceptPath = "/invitations/accept";
    public static readonly TimeSpan DefaultInvitationLifetime = TimeSpan.FromDays(7);

    /// <summary>An invitation and the link to hand to the invitee (shown once: only its hash is kept).</summary>
    public async Task<(InvitationInfo Invitation, string Link)> InviteAsync(string tenant, TenantRole role, string actor, TimeSpan? lifetime = null,
        HttpContext? http = null)
    {
        CreatedInvitation created;
        using (TenantContext.Enter(tenant))
            created = await Members(tenant).InviteAsync(role, actor, lifetime ?? DefaultInvitationLifetime);
        await audit.RecordAsync(tenant, actor, "account.invitation.create", created.Info.InvitationId, role.ToString().ToLowerInvariant(), http);
        return (created.Info, $"{publicUrl.Origin}{AcceptPath}?token={Uri.EscapeDataString(created.Token)}");
    }

    /// <summary>
    /// Removes <paramref name="accountId"/> from <paramref name="tenant"/> and revokes the grants it approved there; false when it
    /// was not a member (its grants are still revoked, so a removal that failed half-way can be repeated).
    /// </summary>
    public async Task<bool> RemoveAsync(string tenant, string accountId, string actor, HttpContext? http = null, CancellationToken cancellationToken = default)
    {
        bool removed;
        using (TenantContext.Enter(tenant))
            removed = await Members(tenant).RemoveAsync(accountId);
        var revoked = await RevokeGrantsAsync(tenant, accountId, cancellationToken);
        await audit.RecordAsync(tenant, actor, "account.member.remove", accountId, $"{revoked} grants revoked", http);
        return removed;
    }

    /// <summary>Revokes every grant in <paramref name="tenant"/> that <paramref name="accountId"/> approved, and their tokens.</summary>
    private async Task<int> RevokeGrantsAsync(string tenant, string accountId, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        await foreach (var authorization in authorizations.FindBySubjectAsync(tenant, cancellationToken))
        {
            if (await GrantAccounts.OfAsync(authorizations, authorization, cancellationToken) != accountId) continue;
            await authorizations.TryRevokeAsync(authorization, cancellationToken);
            if (await authorizations.GetIdAsync(authorization, cancellationToken) is { } id) ids.Add(id);
        }
        foreach (var id in ids) await tokens.RevokeByAuthorizationIdAsync(id, cancellationToken);
        return ids.Count;
    }

    private ITenantMembersGrain Members(string tenant) => grains.GetGrain<ITenantMembersGrain>(AccountIds.Members(tenant));
}
