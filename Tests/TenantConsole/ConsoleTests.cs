using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dovecote.Api.Audit;
using Dovecote.Api.TenantConsole;
using Dovecote.Grains.Interfaces.Audit;
using Dovecote.Tests.Accounts;
using Dovecote.Tests.Channels;
using Dovecote.Tests.Fakes;
using Dovecote.Tests.OAuth;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Dovecote.Tests.TenantConsole;

/// <summary>
/// The console at /console over real HTTP against the real Api (embedded silo, fake Telegram and GitHub on loopback): every page
/// and action, signed in with a tenant's password or a GitHub account, CSRF, headers, isolation between tenants, and the operator view.
/// </summary>
public sealed class ConsoleTests(AccountsApiFixture api) : IClassFixture<AccountsApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A tenant of its own for one test, created by the operator with a password; and a browser signed in with it.</summary>
    private async Task<(string Tenant, ConsoleBrowser Browser)> NewTenantAsync()
    {
        var tenant = $"console-{Guid.NewGuid():N}"[..20];
        var password = $"pw-{Guid.NewGuid():N}";
        using var created = await api.Admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = $"Tenant {tenant}", password }, Ct);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync(Ct));
        return (tenant, await ConsoleBrowser.SignInWithPasswordAsync(api.BaseUrl, tenant, password));
    }

    private static async Task<ConsolePage> AddTelegramChannelAsync(ConsoleBrowser browser, string tenant, string channel, string token, string chat) =>
        await browser.SubmitAsync($"/console/{tenant}/channels", ("id", channel), ("type", "telegram"), ("name", $"Phone {channel}"),
            ("telegram.botToken", token), ("telegram.chatId", chat));

    private async Task<IReadOnlyList<AuditEvent>> AuditAsync(string tenant)
    {
        var audit = api.Services.GetRequiredService<AuditTrail>();
        return (await audit.ReadAsync(tenant, DateOnly.FromDateTime(DateTime.UtcNow), null, 5_000)).Events;
    }

    /// <summary>A tools/call with a bearer credential: the HTTP status, whether the tool answered an error, and its text.</summary>
    private async Task<(HttpStatusCode Status, bool IsError, string Text)> ToolAsync(string bearer, string tool, object? arguments = null)
    {
        var call = await api.CallToolRawAsync(bearer, tool, arguments);
        if (call.Status != HttpStatusCode.OK || call.Message is not { } message || !message.TryGetProperty("result", out var result))
            return (call.Status, true, call.Body);
        var isError = result.TryGetProperty("isError", out var flag) && flag.GetBoolean();
        return (call.Status, isError, result.GetProperty("content")[0].GetProperty("text").GetString() ?? "");
    }

    private async Task<string> MintKeyAsync(ConsoleBrowser browser, string tenant)
    {
        var minted = await browser.SubmitAsync($"/console/{tenant}/api-keys", ("name", "agent"));
        var key = System.Text.RegularExpressions.Regex.Match(minted.Html, "id=\"new-key\">(dvc_[^<]+)</code>").Groups[1].Value;
        Assert.StartsWith("dvc_", key);
        return key;
    }

    [Fact]
    public async Task Signed_out_the_console_sends_to_sign_in_and_back()
    {
        using var browser = new ConsoleBrowser(new Uri(api.BaseUrl));
        var home = await browser.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Found, home.Status);
        Assert.Equal("/signin?returnUrl=%2Fconsole", home.Location);
        var deep = await browser.GetAsync($"/console/{OAuthApiFixture.AcmeTenant}/channels");
        Assert.Equal(HttpStatusCode.Found, deep.Status);
        Assert.Equal($"/signin?returnUrl=%2Fconsole%2F{OAuthApiFixture.AcmeTenant}%2Fchannels", deep.Location);
        // A post without a session changes nothing: no session, no token, 401 or 400, never the action.
        var post = await browser.PostAsync($"/console/{OAuthApiFixture.AcmeTenant}/api-keys", ("name", "x"));
        Assert.True(post.Status is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest, post.ToString());
    }

    [Fact]
    public async Task One_tenant_goes_straight_to_its_channels()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        var home = await browser.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Found, home.Status);
        Assert.Equal($"/console/{tenant}/channels", home.Location);
    }

    [Fact]
    public async Task A_channel_is_added_tested_edited_with_its_secret_kept_and_deleted()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        var chat = ChannelTestKit.UniqueChatId();
        const string token = "777001:console-secret-token-abcdef";
        var added = await AddTelegramChannelAsync(browser, tenant, "phone", token, chat);
        Assert.Contains("Channel &#x27;phone&#x27; added.", added.Html);

        // Write-only: the list and the edit page show the masked token, never the token.
        var list = await browser.PageAsync($"/console/{tenant}/channels");
        Assert.Contains("href=\"/console/" + tenant + "/channels/phone\"", list.Html);
        Assert.Contains("telegram", list.Html);
        Assert.Contains("healthy", list.Html);
        var edit = await browser.PageAsync($"/console/{tenant}/channels/phone");
        Assert.DoesNotContain(token, edit.Html);
        Assert.DoesNotContain("console-secret", edit.Html);
        Assert.Contains("7770****", edit.Html);

        // The test message reaches the fake Telegram; the page shows its answer: delivered, with the platform's message id.
        var tested = await browser.SubmitAsync($"/console/{tenant}/channels/phone/test");
        var sent = Assert.Single(api.Telegram.Messages, m => m.ChatId == chat);
        Assert.Equal(token, sent.Token);
        Assert.Contains("Test message", tested.Html);
        Assert.Contains("<td>delivered</td>", tested.Html);
        Assert.Contains($"class=\"receipt\">{sent.MessageId}</code>", tested.Html);

        // An edit that leaves the token empty keeps it: the next test goes out with the stored token, to the new chat.
        var newChat = ChannelTestKit.UniqueChatId();
        var saved = await browser.SubmitAsync($"/console/{tenant}/channels/phone", ("name", "Renamed phone"), ("telegram.botToken", ""),
            ("telegram.chatId", newChat), ("enabled", "on"));
        Assert.Contains("Saved.", saved.Html);
        Assert.Contains("Renamed phone", saved.Html);
        await browser.SubmitAsync($"/console/{tenant}/channels/phone/test");
        Assert.Equal(token, Assert.Single(api.Telegram.Messages, m => m.ChatId == newChat).Token);

        // Unchecked "enabled" disables it, and a disabled channel refuses the test with a reason (400, not 500).
        await browser.SubmitAsync($"/console/{tenant}/channels/phone", ("name", "Renamed phone"), ("telegram.chatId", newChat));
        var refused = await browser.PostAsync($"/console/{tenant}/channels/phone/test");
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("disabled", refused.Alert, StringComparison.OrdinalIgnoreCase);

        var deleted = await browser.SubmitAsync($"/console/{tenant}/channels/phone/delete");
        Assert.Contains("Channel &#x27;phone&#x27; deleted.", deleted.Html);
        Assert.DoesNotContain($"/console/{tenant}/channels/phone\"", deleted.Html);
        using var gone = await api.Admin.GetAsync($"/admin/tenants/{tenant}/channels/phone", Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/console/{tenant}/channels/phone")).Status);

        // Every change is audited with the signed-in account as actor.
        var events = await AuditAsync(tenant);
        foreach (var action in new[] { "channel.put", "channel.test", "channel.delete" })
            Assert.Contains(events, e => e.Action == action && e.Actor == $"password:{tenant}" && e.Target == "phone");
    }

    [Fact]
    public async Task Bad_channel_input_gets_a_clear_4xx_page()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        var badType = await browser.PostAsync($"/console/{tenant}/channels", ("id", "x1"), ("type", "carrier-pigeon"));
        Assert.Equal(HttpStatusCode.BadRequest, badType.Status);
        Assert.Contains("type must be one of", badType.Alert);
        var badId = await browser.PostAsync($"/console/{tenant}/channels", ("id", "has space"), ("type", "telegram"));
        Assert.Equal(HttpStatusCode.BadRequest, badId.Status);
        var missing = await browser.PostAsync($"/console/{tenant}/channels", ("id", "x2"), ("type", "telegram"), ("telegram.chatId", "12"));
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        Assert.Contains("botToken is required", missing.Alert);
        var badUrl = await browser.PostAsync($"/console/{tenant}/channels", ("id", "x3"), ("type", "webhook"), ("webhook.url", "ftp://nope"),
            ("webhook.secret", "whsec_" + Convert.ToBase64String(new byte[32])));
        Assert.Equal(HttpStatusCode.BadRequest, badUrl.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/console/{tenant}/channels/no-such")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/console/{tenant}/channels/bad!id")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync($"/console/{tenant}/audit?day=yesterday")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync($"/console/{tenant}/audit?after=not-a-cursor")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.PostAsync($"/console/{tenant}/api-keys/nosuchkey123/revoke")).Status);
        Assert.Empty((await api.Admin.GetFromJsonAsync<JsonElement>($"/admin/tenants/{tenant}/channels", Ct)).EnumerateArray());
    }

    [Fact]
    public async Task An_api_key_is_shown_once_works_at_mcp_and_is_refused_once_revoked()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        var key = await MintKeyAsync(browser, tenant);
        var keyId = key.Split('_')[1];
        var works = await ToolAsync(key, "list_channels");
        Assert.Equal(HttpStatusCode.OK, works.Status);
        Assert.False(works.IsError, works.Text);

        var listed = await browser.PageAsync($"/console/{tenant}/api-keys");
        Assert.Contains($"dvc_{keyId}_", listed.Html);
        Assert.DoesNotContain(key, listed.Html); // shown once only

        var revoked = await browser.SubmitAsync($"/console/{tenant}/api-keys/{keyId}/revoke");
        Assert.Contains($"Key {keyId} revoked", revoked.Html);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CallToolRawAsync(key, "list_channels")).Status);
        var events = await AuditAsync(tenant);
        Assert.Contains(events, e => e.Action == "apikey.create" && e.Target == keyId && e.Actor == $"password:{tenant}");
        Assert.Contains(events, e => e.Action == "apikey.revoke" && e.Target == keyId && e.Actor == $"password:{tenant}");
    }

    [Fact]
    public async Task A_connected_app_is_listed_and_its_grant_revoked_ends_its_access()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        var password = await ResetPasswordAsync(tenant);
        const string redirect = "http://127.0.0.1:9/callback";
        var name = $"Console app {Guid.NewGuid():N}"[..20];
        var client = await api.RegisterPublicClientAsync(redirect, name);
        var pkce = Pkce.Create();
        using var consent = api.NewConsentDriver();
        var code = await consent.AuthorizeAsync(api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "s", pkce), tenant, password, Ct);
        var tokens = await api.RedeemCodeAsync(client.ClientId, code.Code!, pkce.Verifier, redirect);
        var access = tokens.GetProperty("access_token").GetString()!;
        Assert.False((await ToolAsync(access, "list_channels")).IsError);

        var apps = await browser.PageAsync($"/console/{tenant}/apps");
        Assert.Contains(name, apps.Html);
        var grantId = System.Text.RegularExpressions.Regex.Match(apps.Html, $"action=\"/console/{tenant}/apps/([^/\"]+)/revoke\"").Groups[1].Value;
        Assert.NotEmpty(grantId);
        var revoked = await browser.SubmitAsync($"/console/{tenant}/apps/{grantId}/revoke");
        Assert.Contains("Access revoked.", revoked.Html);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CallToolRawAsync(access, "list_channels")).Status);
        Assert.Contains(await AuditAsync(tenant), e => e.Action == "oauth.grant.revoke" && e.Actor == $"password:{tenant}");
    }

    /// <summary>The password of a test tenant, set anew (the browser of <see cref="NewTenantAsync"/> does not keep it).</summary>
    private async Task<string> ResetPasswordAsync(string tenant)
    {
        var password = $"pw-{Guid.NewGuid():N}";
        using var put = await api.Admin.PutAsJsonAsync($"/admin/tenants/{tenant}", new { displayName = $"Tenant {tenant}", password }, Ct);
        Assert.True(put.IsSuccessStatusCode);
        return password;
    }

    [Fact]
    public async Task A_dead_letter_is_listed_with_its_error_and_redriven()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        var chat = ChannelTestKit.UniqueChatId();
        await AddTelegramChannelAsync(browser, tenant, "phone", "777002:dead-letter-token", chat);
        api.Telegram.Script(FakeTelegramServer.ChatNotFound());
        var failed = await browser.SubmitAsync($"/console/{tenant}/channels/phone/test");
        Assert.Contains("<td>failed</td>", failed.Html);
        Assert.Contains("chat not found", failed.Html);

        var deliveries = await browser.PageAsync($"/console/{tenant}/deliveries");
        var deliveryId = System.Text.RegularExpressions.Regex.Match(deliveries.Html, "name=\"deliveryId\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.StartsWith("phone:", deliveryId);
        var redriven = await browser.SubmitAsync($"/console/{tenant}/channels/phone/redrive", ("deliveryId", deliveryId));
        Assert.Contains("1 dead letter(s) of &#x27;phone&#x27; queued again.", redriven.Html);
        await api.Telegram.WaitUntilAsync(() => api.Telegram.Messages.Any(m => m.ChatId == chat), because: "the redriven message is delivered");
        var receipt = api.Telegram.Messages.Single(m => m.ChatId == chat).MessageId;
        // The recent deliveries show the receipt once the channel has recorded it.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await browser.PageAsync($"/console/{tenant}/deliveries")).Html.Contains($"class=\"receipt\">{receipt}</code>"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the deliveries page never showed the platform's message id");
            await Task.Delay(100, Ct); // polling a condition, not waiting out a time
        }
        Assert.Contains(await AuditAsync(tenant), e => e.Action == "channel.redrive" && e.Actor == $"password:{tenant}" && e.Detail == "1 redriven");
        Assert.Equal(HttpStatusCode.NotFound, (await browser.PostAsync($"/console/{tenant}/channels/phone/redrive", ("deliveryId", "phone:nope"))).Status);
    }

    [Fact]
    public async Task The_audit_log_is_paged_and_usage_shows_the_limits()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        var audit = api.Services.GetRequiredService<AuditTrail>();
        for (var i = 0; i < TenantPages.AuditPageSize + 5; i++) await audit.RecordAsync(tenant, "test", "test.event", $"target-{i:D3}");
        var first = await browser.PageAsync($"/console/{tenant}/audit");
        Assert.Contains("target-000", first.Html);
        Assert.DoesNotContain($"target-{TenantPages.AuditPageSize + 4:D3}", first.Html);
        var more = System.Text.RegularExpressions.Regex.Match(first.Html, "rel=\"next\" href=\"([^\"]+)\"").Groups[1].Value;
        var second = await browser.PageAsync(WebUtility.HtmlDecode(more));
        Assert.Contains($"target-{TenantPages.AuditPageSize + 4:D3}", second.Html);
        Assert.DoesNotContain("target-000", second.Html);

        await MintKeyAsync(browser, tenant);
        var usage = await browser.PageAsync($"/console/{tenant}/usage");
        var limits = (await api.Admin.GetFromJsonAsync<JsonElement>($"/admin/tenants/{tenant}", Ct)).GetProperty("limits");
        Assert.Contains($"<td>API keys</td><td>1</td><td>{limits.GetProperty("apiKeys").GetInt32()}</td>", usage.Html);
        Assert.Contains($"<td>Channels</td><td>0</td><td>{limits.GetProperty("channels").GetInt32()}</td>", usage.Html);
        Assert.Contains($"<td>Sends this minute</td><td>0</td><td>{limits.GetProperty("sendsPerMinute").GetInt32()}</td>", usage.Html);
    }

    [Fact]
    public async Task An_owner_invites_by_link_and_removes_a_member_who_then_loses_the_tenant()
    {
        api.GitHub.AddUser(830001, "console-owner", null, null, AccountsApiFixture.AllowedOrg);
        api.GitHub.AddUser(830002, "console-member", null, null, AccountsApiFixture.AllowedOrg);
        using var ownerDriver = await api.SignInWithGitHubAsync("console-owner");
        using var owner = new ConsoleBrowser(new Uri(api.BaseUrl), ownerDriver.Cookies);
        var home = await owner.GetAsync("/console"); // sign-up gave the account its own tenant
        Assert.Equal(HttpStatusCode.Found, home.Status);
        var tenant = home.Location!.Split('/')[2];
        await owner.PageAsync($"/console/{tenant}/members"); // the page whose form the owner then posts

        var invited = await owner.SubmitAsync($"/console/{tenant}/invitations", ("role", "member"));
        var link = WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(invited.Html, "id=\"invitation-link\">([^<]+)</code>").Groups[1].Value);
        Assert.StartsWith($"{api.BaseUrl}/invitations/accept?token=dvi_{tenant}_", link);
        Assert.Contains(await AuditAsync(tenant), e => e.Action == "account.invitation.create" && e.Actor == "github:830001");

        using var memberDriver = await api.SignInWithGitHubAsync("console-member");
        var join = await memberDriver.GetAuthorizeFormAsync(new Uri(link), Ct);
        using (var joined = await memberDriver.SubmitAsync(join, null, null, "join", cancellationToken: Ct))
            Assert.Equal(HttpStatusCode.Found, joined.StatusCode);
        using var member = new ConsoleBrowser(new Uri(api.BaseUrl), memberDriver.Cookies);
        await member.PageAsync($"/console/{tenant}/channels"); // in
        // Sign-up gave the member a tenant of their own too: with two, /console is a picker.
        var picker = await member.PageAsync("/console");
        Assert.Contains($"<a href=\"/console/{tenant}/channels\">{tenant}</a>", picker.Html);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(picker.Html, "<a href=\"/console/[^/\"]+/channels\">").Count);
        var members = await owner.PageAsync($"/console/{tenant}/members");
        Assert.Contains("github:830002", members.Html);

        // A member sees the members but manages nobody.
        var memberView = await member.PageAsync($"/console/{tenant}/members");
        Assert.DoesNotContain("Create invitation link", memberView.Html);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsync($"/console/{tenant}/invitations", ("role", "owner"))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsync($"/console/{tenant}/members/remove", ("account", "github:830001"))).Status);

        var removed = await owner.SubmitAsync($"/console/{tenant}/members/remove", ("account", "github:830002"));
        Assert.Contains("github:830002 removed", removed.Html);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync($"/console/{tenant}/channels")).Status);
        Assert.Contains(await AuditAsync(tenant), e => e.Action == "account.member.remove" && e.Target == "github:830002" && e.Actor == "github:830001");
        Assert.Equal(HttpStatusCode.NotFound, (await owner.PostAsync($"/console/{tenant}/members/remove", ("account", "github:830002"))).Status);

        // An open invitation can be withdrawn.
        await owner.SubmitAsync($"/console/{tenant}/invitations", ("role", "member"));
        var open = await owner.PageAsync($"/console/{tenant}/members");
        var invitationId = System.Text.RegularExpressions.Regex.Match(open.Html, $"/console/{tenant}/invitations/([^/\"]+)/revoke").Groups[1].Value;
        Assert.Contains("Invitation withdrawn.", (await owner.SubmitAsync($"/console/{tenant}/invitations/{invitationId}/revoke")).Html);
    }

    [Fact]
    public async Task Posts_without_a_valid_csrf_token_are_refused_and_change_nothing()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        await browser.PageAsync($"/console/{tenant}/api-keys");
        var missing = await browser.PostAsync($"/console/{tenant}/api-keys", ("name", "forged"), ("csrf_token", null));
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        Assert.Equal("The form expired or was changed on the way. Open the page and try again.", missing.Alert);
        var wrong = await browser.PostAsync($"/console/{tenant}/api-keys", ("name", "forged"), ("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.Status);
        var operatorForged = await browser.PostAsync("/console/operator/signin", ("token", OAuthApiFixture.AdminToken), ("csrf_token", null));
        Assert.Equal(HttpStatusCode.BadRequest, operatorForged.Status);
        Assert.Empty((await api.Admin.GetFromJsonAsync<JsonElement>($"/admin/tenants/{tenant}/api-keys", Ct)).EnumerateArray());
        // A foreign origin is refused before any handler.
        using var foreign = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/console/{tenant}/api-keys") { Content = new FormUrlEncodedContent([]) };
        request.Headers.Add("Origin", "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await foreign.SendAsync(request, Ct)).StatusCode);
    }

    [Fact]
    public async Task Every_page_has_the_consent_pages_security_headers()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        await AddTelegramChannelAsync(browser, tenant, "phone", "777003:headers-token", ChannelTestKit.UniqueChatId());
        string[] pages = ["channels", "channels/phone", "deliveries", "api-keys", "apps", "audit", "usage", "members"];
        foreach (var path in pages.Select(p => $"/console/{tenant}/{p}").Append("/console/operator").Append($"/console/{tenant}/channels/missing"))
        {
            var page = await browser.GetAsync(path);
            Assert.True(page.Status is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{path}: {page}");
            Assert.Contains("frame-ancestors 'none'", page.Header("Content-Security-Policy"));
            Assert.Contains("default-src 'none'", page.Header("Content-Security-Policy"));
            Assert.Equal("DENY", page.Header("X-Frame-Options"));
            Assert.Equal("no-referrer", page.Header("Referrer-Policy"));
            Assert.Equal("nosniff", page.Header("X-Content-Type-Options"));
            Assert.Equal("no-store", page.Header("Cache-Control"));
            Assert.DoesNotContain("<script", page.Html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task A_member_of_one_tenant_cannot_see_or_change_another_through_any_console_url()
    {
        var (mine, browser) = await NewTenantAsync();
        using var _ = browser;
        var (theirs, owner) = await NewTenantAsync();
        using var __ = owner;
        var chat = ChannelTestKit.UniqueChatId();
        await AddTelegramChannelAsync(owner, theirs, "their-phone", "777004:their-token", chat);
        var theirKey = (await MintKeyAsync(owner, theirs)).Split('_')[1];
        var theirInvitation = (await owner.SubmitAsync($"/console/{theirs}/invitations", ("role", "member"))).Html;
        var invitationId = System.Text.RegularExpressions.Regex.Match(
            (await owner.PageAsync($"/console/{theirs}/members")).Html, $"/console/{theirs}/invitations/([^/\"]+)/revoke").Groups[1].Value;
        Assert.NotEmpty(invitationId);
        await browser.PageAsync($"/console/{mine}/channels"); // a fresh CSRF token for my own session

        // Every console route with their tenant in the URL: 403, whatever the method.
        var ids = new Dictionary<string, string>
        {
            ["tenant"] = theirs, ["channel"] = "their-phone", ["keyId"] = theirKey, ["grantId"] = "g1", ["invitationId"] = invitationId,
        };
        var routes = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/console/{tenant}", StringComparison.Ordinal) == true).ToList();
        Assert.True(routes.Count >= 18, $"only {routes.Count} console routes found");
        foreach (var route in routes)
        {
            var path = ids.Aggregate(route.RoutePattern.RawText!, (p, id) => p.Replace($"{{{id.Key}}}", id.Value));
            foreach (var method in route.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods)
            {
                var answer = method == "GET" ? await browser.GetAsync(path) : await browser.PostAsync(path, ("account", "password:" + theirs), ("deliveryId", "x"));
                Assert.True(answer.Status == HttpStatusCode.Forbidden, $"{method} {path}: {answer}");
            }
        }

        // Their ids under my tenant: not found, and nothing of theirs changes.
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/console/{mine}/channels/their-phone")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.PostAsync($"/console/{mine}/channels/their-phone/delete")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.PostAsync($"/console/{mine}/channels/their-phone/test")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.PostAsync($"/console/{mine}/api-keys/{theirKey}/revoke")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.PostAsync($"/console/{mine}/invitations/{invitationId}/revoke")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.PostAsync($"/console/{mine}/members/remove", ("account", $"password:{theirs}"))).Status);
        Assert.DoesNotContain("their-phone", (await browser.PageAsync($"/console/{mine}/deliveries")).Html);
        Assert.DoesNotContain(theirKey, (await browser.PageAsync($"/console/{mine}/api-keys")).Html);
        using (var theirChannel = await api.Admin.GetAsync($"/admin/tenants/{theirs}/channels/their-phone", Ct))
            Assert.Equal(HttpStatusCode.OK, theirChannel.StatusCode);
        Assert.Contains(theirKey, (await owner.PageAsync($"/console/{theirs}/api-keys")).Html);
        Assert.Contains(invitationId, (await owner.PageAsync($"/console/{theirs}/members")).Html);
        Assert.DoesNotContain(api.Telegram.Messages, m => m.ChatId == chat);
        Assert.NotEmpty(theirInvitation);
    }

    [Fact]
    public async Task A_grant_of_another_tenant_cannot_be_revoked_from_mine()
    {
        var (mine, browser) = await NewTenantAsync();
        using var _ = browser;
        var (theirs, owner) = await NewTenantAsync();
        using var __ = owner;
        var password = await ResetPasswordAsync(theirs);
        const string redirect = "http://127.0.0.1:9/callback";
        var client = await api.RegisterPublicClientAsync(redirect, "Their app");
        var pkce = Pkce.Create();
        using var consent = api.NewConsentDriver();
        var code = await consent.AuthorizeAsync(api.AuthorizeUri(client.ClientId, redirect, OAuthApiFixture.NotifyScope, "s", pkce), theirs, password, Ct);
        var access = (await api.RedeemCodeAsync(client.ClientId, code.Code!, pkce.Verifier, redirect)).GetProperty("access_token").GetString()!;
        var grantId = System.Text.RegularExpressions.Regex.Match((await owner.PageAsync($"/console/{theirs}/apps")).Html,
            $"action=\"/console/{theirs}/apps/([^/\"]+)/revoke\"").Groups[1].Value;
        Assert.NotEmpty(grantId);

        await browser.PageAsync($"/console/{mine}/apps");
        Assert.Equal(HttpStatusCode.NotFound, (await browser.PostAsync($"/console/{mine}/apps/{grantId}/revoke")).Status);
        Assert.False((await ToolAsync(access, "list_channels")).IsError); // still works
    }

    [Fact]
    public async Task The_operator_suspends_a_tenant_whose_sends_are_refused_with_the_reason_and_unsuspends_it()
    {
        var (tenant, browser) = await NewTenantAsync();
        using var _ = browser;
        var chat = ChannelTestKit.UniqueChatId();
        await AddTelegramChannelAsync(browser, tenant, "phone", "777005:suspend-token", chat);
        var key = await MintKeyAsync(browser, tenant);

        using var operatorBrowser = new ConsoleBrowser(new Uri(api.BaseUrl));
        var form = await operatorBrowser.PageAsync("/console/operator");
        Assert.Contains("Operator token", form.Html);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await operatorBrowser.PostAsync($"/console/operator/tenants/{tenant}/suspend", ("reason", "not yet signed in"))).Status);
        var wrong = await operatorBrowser.PostAsync("/console/operator/signin", ("token", "not-the-operator-token-0123456789abcdef"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal("That is not the operator token.", wrong.Alert);
        var signedIn = await operatorBrowser.PostAsync("/console/operator/signin", ("token", OAuthApiFixture.AdminToken));
        Assert.Equal(HttpStatusCode.Found, signedIn.Status);
        var view = await operatorBrowser.PageAsync("/console/operator");
        Assert.Contains($"<code>{tenant}</code>", view.Html);
        Assert.Contains("Operator view", view.Html);

        const string reason = "unpaid invoice #42";
        var suspended = await operatorBrowser.SubmitAsync($"/console/operator/tenants/{tenant}/suspend", ("reason", reason));
        Assert.Contains($"suspended: {reason}", WebUtility.HtmlDecode(suspended.Html));
        var refused = await ToolAsync(key, "send_notification", new { channel = "phone", message = "while suspended" });
        Assert.True(refused.IsError);
        Assert.Contains(reason, refused.Text);
        Assert.Contains("suspended", refused.Text);
        // Its channels are kept and still listed; the console's test message is refused with the reason too.
        var channels = await ToolAsync(key, "list_channels");
        Assert.False(channels.IsError);
        Assert.Contains("phone", channels.Text);
        var test = await browser.PostAsync($"/console/{tenant}/channels/phone/test");
        Assert.Equal(HttpStatusCode.BadRequest, test.Status);
        Assert.Contains(reason, test.Alert);
        Assert.Contains(reason, WebUtility.HtmlDecode((await browser.PageAsync($"/console/{tenant}/usage")).Html));

        await operatorBrowser.SubmitAsync($"/console/operator/tenants/{tenant}/unsuspend");
        var sent = await ToolAsync(key, "send_notification", new { channel = "phone", message = "after unsuspend", wait_seconds = 20 });
        Assert.False(sent.IsError, sent.Text);
        Assert.Contains(api.Telegram.Messages, m => m.ChatId == chat && m.Text.Contains("after unsuspend"));
        Assert.DoesNotContain(api.Telegram.Messages, m => m.ChatId == chat && m.Text.Contains("while suspended"));
        var events = await AuditAsync(tenant);
        Assert.Contains(events, e => e.Action == "tenant.suspend" && e.Detail == reason && e.Actor == OperatorPages.OperatorAccount);
        Assert.Contains(events, e => e.Action == "tenant.unsuspend" && e.Actor == OperatorPages.OperatorAccount);
        // A tenant member's session is no operator session.
        Assert.Contains("Operator token", (await browser.PageAsync("/console/operator")).Html);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.PostAsync($"/console/operator/tenants/{tenant}/suspend", ("reason", "x"))).Status);
    }
}
