using Dovecote.Api.Accounts;
using Dovecote.Api.Admin;
using Dovecote.Api.Audit;
using Dovecote.Api.OAuth.Consent;
using Dovecote.Grains.Interfaces.Accounts;
using static Dovecote.Api.TenantConsole.ConsoleHtml;

namespace Dovecote.Api.TenantConsole;

/// <summary>API keys, connected apps (OAuth grants), the audit log, usage against the limits, and members with invitations.</summary>
public static class TenantPages
{
    public const int AuditPageSize = 50;

    public static void Map(RouteGroupBuilder tenant)
    {
        tenant.MapGet("/api-keys", (HttpContext http, IGrainFactory grains) => ApiKeysAsync(ConsoleRequest.Of(http), grains, null));
        tenant.MapPost("/api-keys", MintAsync);
        tenant.MapPost("/api-keys/{keyId}/revoke", RevokeKeyAsync);
        tenant.MapGet("/apps", (HttpContext http, TenantAdministration administration) => AppsAsync(ConsoleRequest.Of(http), administration, null, http.RequestAborted));
        tenant.MapPost("/apps/{grantId}/revoke", RevokeGrantAsync);
        tenant.MapGet("/audit", AuditAsync);
        tenant.MapGet("/usage", UsageAsync);
        tenant.MapGet("/members", (HttpContext http, IGrainFactory grains) => MembersAsync(ConsoleRequest.Of(http), grains, null));
        tenant.MapPost("/invitations", InviteAsync);
        tenant.MapPost("/invitations/{invitationId}/revoke", WithdrawAsync);
        tenant.MapPost("/members/remove", RemoveAsync);
    }

    private static async Task<IResult> ApiKeysAsync(ConsoleRequest request, IGrainFactory grains, string? notice, CreatedApiKey? minted = null)
    {
        var keys = await grains.GetGrain<ITenantGrain>(request.Tenant).ListApiKeysAsync();
        return Page(request, "api-keys", "API keys", html =>
        {
            if (minted is not null)
                html.Append("<h2 id=\"minted\">Your new key</h2><p>Copy it now: it is shown this once, and only its hash is kept.</p>")
                    .Append("<code class=\"secret\" id=\"new-key\">").Append(E(minted.Key)).Append("</code>");
            html.Append("<p>Agents send <code>Authorization: Bearer dvc_...</code> to <code>/mcp</code>.</p>");
            html.Table("API keys", ["Key", "Name", "Created", ""], keys, k =>
                [$"<code>{E(k.Prefix)}…</code>", E(k.Name), When(k.CreatedAt),
                    Button(request.Link($"api-keys/{k.KeyId}/revoke"), "Revoke", request.Csrf)], "No API keys.");
            html.Append("<h2 id=\"mint\">Mint a key</h2>").BeginForm(request.Link("api-keys"), request.Csrf)
                .TextField("name", "Name (what uses it)").EndForm("Mint key");
        }, StatusCodes.Status200OK, notice);
    }

    private static async Task<IResult> MintAsync(HttpContext http, IGrainFactory grains, TenantAdministration administration)
    {
        var request = ConsoleRequest.Of(http);
        var created = await administration.CreateApiKeyAsync(request.Tenant, request.Field("name"), request.Account, http);
        return await ApiKeysAsync(request, grains, null, created);
    }

    private static async Task<IResult> RevokeKeyAsync(HttpContext http, string keyId, IGrainFactory grains, TenantAdministration administration)
    {
        var request = ConsoleRequest.Of(http);
        if (!await administration.RevokeApiKeyAsync(request.Tenant, keyId, request.Account, http))
            return Problem(request, "Not found", "This tenant has no such API key.", StatusCodes.Status404NotFound);
        return await ApiKeysAsync(request, grains, $"Key {keyId} revoked: it is refused from now on.");
    }

    private static async Task<IResult> AppsAsync(ConsoleRequest request, TenantAdministration administration, string? notice, CancellationToken cancellationToken)
    {
        var grants = await administration.ListGrantsAsync(request.Tenant, cancellationToken);
        return Page(request, "apps", "Connected apps", html =>
        {
            html.Append("<p>Apps connected through OAuth (Claude, Claude Code, ...) and what they may do. Revoking ends their access at the next call.</p>");
            html.Table("OAuth grants", ["App", "Client id", "Scopes", "Connected", "Status", ""], grants, g =>
            [
                E(g.ClientName), $"<code>{E(g.ClientId)}</code>", E(string.Join(" ", g.Scopes)), When(g.CreatedAt), E(g.Status),
                g.Status == OpenIddictConstants.Statuses.Valid && g.GrantId is not null
                    ? Button(request.Link($"apps/{Uri.EscapeDataString(g.GrantId)}/revoke"), "Revoke", request.Csrf) : "",
            ], "No apps are connected.");
        }, StatusCodes.Status200OK, notice);
    }

    private static async Task<IResult> RevokeGrantAsync(HttpContext http, string grantId, TenantAdministration administration)
    {
        var request = ConsoleRequest.Of(http);
        if (await administration.RevokeGrantAsync(request.Tenant, grantId, request.Account, http, http.RequestAborted) is null)
            return Problem(request, "Not found", "This tenant has no such grant.", StatusCodes.Status404NotFound);
        return await AppsAsync(request, administration, "Access revoked.", http.RequestAborted);
    }

    /// <summary>A day of the tenant's audit log (UTC, today by default), <see cref="AuditPageSize"/> events a page.</summary>
    private static async Task<IResult> AuditAsync(HttpContext http, string? day, string? after, AuditTrail audit, TimeProvider time)
    {
        var request = ConsoleRequest.Of(http);
        var date = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (day is not null && !DateOnly.TryParseExact(day, "yyyy-MM-dd", out date))
            return Problem(request, "That did not work", "day must be yyyy-MM-dd.", StatusCodes.Status400BadRequest);
        var page = await audit.ReadAsync(request.Tenant, date, after, AuditPageSize); // a malformed cursor: ArgumentException, a 400 page
        var dayText = date.ToString("yyyy-MM-dd");
        return Page(request, "audit", $"Audit log, {dayText}", html =>
        {
            html.Append("<p><a href=\"").Append(E(request.Link($"audit?day={date.AddDays(-1):yyyy-MM-dd}"))).Append("\">Previous day</a> · <a href=\"")
                .Append(E(request.Link($"audit?day={date.AddDays(1):yyyy-MM-dd}"))).Append("\">Next day</a></p>");
            html.Table("Audit events", ["At", "Actor", "Action", "Target", "Detail", "Address"], page.Events, e =>
                [When(e.At), E(e.Actor), E(e.Action), E(e.Target), E(e.Detail), E(e.RemoteAddress)], "Nothing recorded on this day.");
            if (page.Next is { } next)
                html.Append("<p><a rel=\"next\" href=\"").Append(E(request.Link($"audit?day={dayText}&after={Uri.EscapeDataString(next)}"))).Append("\">More</a></p>");
        });
    }

    private static async Task<IResult> UsageAsync(HttpContext http, TenantAdministration administration, IGrainFactory grains)
    {
        var request = ConsoleRequest.Of(http);
        var usage = await administration.UsageAsync(request.Tenant, http.RequestAborted)
            ?? throw new NotFoundException($"tenant '{request.Tenant}' does not exist");
        var members = await grains.GetGrain<ITenantMembersGrain>(AccountIds.Members(request.Tenant)).ListAsync();
        return Page(request, "usage", "Usage", html =>
        {
            if (usage.Tenant.SuspendedReason is { } reason)
                html.Alert($"The operator suspended this tenant: {reason}. Its sends are refused; its channels are kept.");
            (string What, int Used, int Limit)[] rows =
            [
                ("Sends this minute", usage.SendsThisMinute, usage.Limits.SendsPerMinute), ("Channels", usage.Tenant.Channels, usage.Limits.Channels),
                ("API keys", usage.Tenant.ApiKeys, usage.Limits.ApiKeys), ("Connected OAuth clients", usage.OAuthClients, usage.Limits.OAuthClients),
            ];
            html.Table("Usage against limits", ["", "Used", "Limit"], rows, r => [E(r.What), $"{r.Used}", $"{r.Limit}"], "");
            html.Append($"<p>{members.Count} member(s). Limits are set by the operator.</p>");
        });
    }

    private static async Task<IResult> MembersAsync(ConsoleRequest request, IGrainFactory grains, string? notice, string? link = null)
    {
        var members = grains.GetGrain<ITenantMembersGrain>(AccountIds.Members(request.Tenant));
        var people = await members.ListAsync();
        var invitations = request.IsOwner ? await members.ListInvitationsAsync() : [];
        return Page(request, "members", "Members", html =>
        {
            if (link is not null)
                html.Append("<h2 id=\"invitation\">Invitation link</h2><p>Send it to the person you invite; it works once, and is shown this once.</p>")
                    .Append("<code class=\"secret\" id=\"invitation-link\">").Append(E(link)).Append("</code>");
            html.Table("Members", ["Name", "Account", "Role", "Since", ""], people, m =>
            [
                E(m.DisplayName), $"<code>{E(m.AccountId)}</code>", E(m.Role.ToString().ToLowerInvariant()), When(m.AddedAt),
                request.IsOwner ? Button(request.Link("members/remove"), "Remove", request.Csrf, ("account", m.AccountId)) : "",
            ], "No members yet: people join through an invitation link.");
            if (!request.IsOwner) return;
            html.Append("<h2 id=\"invitations\">Open invitations</h2>");
            html.Table("Invitations", ["Invitation", "Role", "By", "Expires", ""], invitations, i =>
            [
                $"<code>{E(i.InvitationId)}</code>", E(i.Role.ToString().ToLowerInvariant()), E(i.InvitedBy), When(i.ExpiresAt),
                Button(request.Link($"invitations/{i.InvitationId}/revoke"), "Withdraw", request.Csrf),
            ], "None.");
            html.Append("<h2 id=\"invite\">Invite someone</h2>").BeginForm(request.Link("invitations"), request.Csrf)
                .Select("role", "Role", [("member", "Member"), ("owner", "Owner")], "member").EndForm("Create invitation link");
        }, StatusCodes.Status200OK, notice);
    }

    private static async Task<IResult> InviteAsync(HttpContext http, IGrainFactory grains, MemberAdministration administration)
    {
        var request = ConsoleRequest.Of(http);
        if (!request.IsOwner) return ConsoleEndpoints.OwnersOnly(request);
        TenantRole? role = request.Field("role") switch { "member" => TenantRole.Member, "owner" => TenantRole.Owner, _ => null };
        if (role is null) return Problem(request, "That did not work", "role must be 'member' or 'owner'.", StatusCodes.Status400BadRequest);
        var (_, link) = await administration.InviteAsync(request.Tenant, role.Value, request.Account, http: http);
        return await MembersAsync(request, grains, null, link);
    }

    private static async Task<IResult> WithdrawAsync(HttpContext http, string invitationId, IGrainFactory grains, AuditTrail audit)
    {
        var request = ConsoleRequest.Of(http);
        if (!request.IsOwner) return ConsoleEndpoints.OwnersOnly(request);
        if (!await grains.GetGrain<ITenantMembersGrain>(AccountIds.Members(request.Tenant)).RevokeInvitationAsync(invitationId))
            return Problem(request, "Not found", "This tenant has no such open invitation.", StatusCodes.Status404NotFound);
        await audit.RecordAsync(request.Tenant, request.Account, "account.invitation.revoke", invitationId, null, http);
        return await MembersAsync(request, grains, "Invitation withdrawn.");
    }

    private static async Task<IResult> RemoveAsync(HttpContext http, IGrainFactory grains, MemberAdministration administration)
    {
        var request = ConsoleRequest.Of(http);
        if (!request.IsOwner) return ConsoleEndpoints.OwnersOnly(request);
        var account = request.Field("account");
        if (!AccountIds.IsValid(account)) return Problem(request, "That did not work", "account must be an account id.", StatusCodes.Status400BadRequest);
        if (!await administration.RemoveAsync(request.Tenant, account, request.Account, http, http.RequestAborted))
            return Problem(request, "Not found", "This account is not a member of this tenant.", StatusCodes.Status404NotFound);
        return await MembersAsync(request, grains, $"{account} removed; the apps they connected here are revoked.");
    }
}
