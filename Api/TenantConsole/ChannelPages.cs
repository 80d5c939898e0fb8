using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dovecote.Api.Admin;
using Dovecote.Api.RateLimiting;
using static Dovecote.Api.TenantConsole.ConsoleHtml;

namespace Dovecote.Api.TenantConsole;

/// <summary>
/// Channels (list, add, edit, delete, send a test message) and deliveries (recent ones with their receipts, dead letters and
/// redrive). Secrets are write-only: the pages show the grain's masked settings, and an edit that leaves a secret empty keeps it.
/// </summary>
public static class ChannelPages
{
    /// <summary>The settings fields of each type, as the admin API names them; the secret ones are never shown back.</summary>
    private static readonly Dictionary<string, (string Name, string Label, bool Secret)[]> Fields = new()
    {
        ["telegram"] = [("botToken", "Bot token", true), ("chatId", "Chat id", false), ("messageThreadId", "Topic (message thread) id, optional", false)],
        ["discord"] = [("webhookUrl", "Webhook URL", true)],
        ["slack"] = [("webhookUrl", "Webhook URL", true)],
        ["webhook"] = [("url", "URL", true), ("secret", "Signing secret (whsec_...)", true)],
    };

    private const int DeliveriesShown = 50;

    public static void Map(RouteGroupBuilder tenant)
    {
        tenant.MapGet("/channels", (HttpContext http, IGrainFactory grains) => ListAsync(ConsoleRequest.Of(http), grains, null));
        tenant.MapPost("/channels", AddAsync);
        tenant.MapGet("/channels/{channel}", (HttpContext http, string channel, IGrainFactory grains) => EditAsync(ConsoleRequest.Of(http), channel, grains, null));
        tenant.MapPost("/channels/{channel}", SaveAsync);
        tenant.MapPost("/channels/{channel}/delete", DeleteAsync);
        tenant.MapPost("/channels/{channel}/test", TestAsync);
        tenant.MapPost("/channels/{channel}/redrive", RedriveAsync);
        tenant.MapGet("/deliveries", (HttpContext http, IGrainFactory grains) => DeliveriesAsync(ConsoleRequest.Of(http), grains, null));
    }

    private static async Task<IResult> ListAsync(ConsoleRequest request, IGrainFactory grains, string? notice, int status = StatusCodes.Status200OK)
    {
        var channels = await ChannelsAsync(request.Tenant, grains);
        return Page(request, "channels", "Channels", html =>
        {
            html.Table("Channels", ["Channel", "Type", "Name", "Enabled", "Health", "Pending", "Dead letters"], channels, c =>
            [
                $"<a href=\"{E(request.Link("channels/" + c.ChannelId))}\">{E(c.ChannelId)}</a>", E(c.Type.ToString().ToLowerInvariant()), E(c.Name),
                c.Enabled ? "yes" : "no", E(c.HealthText) + (c.LastError is null ? "" : $"<br><small>{E(c.LastError)}</small>"), $"{c.Pending}", $"{c.DeadLetters}",
            ], "No channels yet. Add one below.");
            html.Append("<h2 id=\"add\">Add a channel</h2>").BeginForm(request.Link("channels"), request.Csrf)
                .TextField("id", "Channel id", required: true, hint: "letters, digits, '.', '_' or '-'; agents send to it by this id")
                .Select("type", "Type", ChannelSettingsParser.Types.Select(t => (t, t)), "telegram")
                .TextField("name", "Name");
            foreach (var (type, fields) in Fields)
                foreach (var (name, label, _) in fields.Where(f => type != "slack" || f.Name != "webhookUrl"))
                    html.TextField(FieldId(type, name), $"{Title(type)}: {label}");
            html.EndForm("Add channel");
        }, status, notice);
    }

    private static async Task<IResult> AddAsync(HttpContext http, IGrainFactory grains, TenantAdministration administration)
    {
        var request = ConsoleRequest.Of(http);
        var channel = request.Field("id");
        var type = request.Field("type");
        if (!GrainKeys.IsValidChannelId(channel))
            return Problem(request, "That did not work", "The channel id must be 1 to 64 letters, digits, '.', '_' or '-'.", StatusCodes.Status400BadRequest);
        if (await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(request.Tenant, channel)).GetInfoAsync() is not null)
            return Problem(request, "That did not work", $"There is a channel '{channel}' already: edit it instead.", StatusCodes.Status409Conflict);
        if (!Fields.ContainsKey(type))
            return Problem(request, "That did not work", $"The type must be one of {string.Join(", ", ChannelSettingsParser.Types)}.", StatusCodes.Status400BadRequest);
        var (settings, error) = ChannelSettingsParser.Parse(type, SettingsJson(request, type));
        if (settings is null) return Problem(request, "That did not work", error!, StatusCodes.Status400BadRequest);
        var name = request.Field("name") is { Length: > 0 } given ? given : channel;
        await administration.PutChannelAsync(request.Tenant, channel, new ChannelConfig(name, true, settings), request.Account, http);
        return await EditAsync(request, channel, grains, $"Channel '{channel}' added.");
    }

    private static async Task<IResult> EditAsync(ConsoleRequest request, string channel, IGrainFactory grains, string? notice, DeliveryStatus? test = null)
    {
        var grain = grains.GetGrain<IChannelGrain>(GrainKeys.Channel(request.Tenant, channel));
        if (await grain.GetInfoAsync() is not { } info) return NoChannel(request, channel);
        var dead = await grain.GetDeadLettersAsync();
        var type = info.Type.ToString().ToLowerInvariant();
        return Page(request, "channels", $"Channel {channel}", html =>
        {
            if (test is not null)
            {
                html.Append("<h2 id=\"test-result\">Test message</h2>");
                DeliveryTable(html, request, "Test message", [test], withChannel: false);
            }
            html.Append("<p>").Append(E(type)).Append(", ").Append(info.Enabled ? "enabled" : "disabled").Append(", ").Append(E(info.HealthText))
                .Append($", {info.Pending} pending, {info.DeadLetters} dead letters.").Append("</p>");
            if (info.LastError is not null) html.Append("<p>Last error: ").Append(E(info.LastError)).Append("</p>");
            PostButton(html, request.Link($"channels/{channel}/test"), "Send a test message", request.Csrf, []);

            html.Append("<h2 id=\"edit\">Settings</h2><p>Secrets are never shown; leave a secret empty to keep the stored one.</p>")
                .BeginForm(request.Link($"channels/{channel}"), request.Csrf)
                .TextField("name", "Name", info.Name, required: true);
            foreach (var (name, label, secret) in Fields[type])
            {
                var shown = info.Settings.GetValueOrDefault(name, "");
                html.TextField(FieldId(type, name), label, secret ? "" : shown,
                    hint: secret ? $"stored: {shown}; leave empty to keep it" : null, type: secret ? "password" : "text");
            }
            html.Append("<label><input type=\"checkbox\" name=\"enabled\" value=\"on\"").Append(info.Enabled ? " checked" : "").Append("> Enabled</label>")
                .EndForm("Save");

            if (dead.Count > 0)
            {
                html.Append("<h2 id=\"dead\">Dead letters</h2>");
                DeliveryTable(html, request, "Dead letters", dead, withChannel: false, redrive: true);
            }
            html.Append("<h2 id=\"delete\">Delete</h2><p>Deleting drops the channel's pending messages and history.</p>");
            PostButton(html, request.Link($"channels/{channel}/delete"), "Delete channel", request.Csrf, []);
        }, StatusCodes.Status200OK, notice);
    }

    private static async Task<IResult> SaveAsync(HttpContext http, string channel, IGrainFactory grains, TenantAdministration administration)
    {
        var request = ConsoleRequest.Of(http);
        if (await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(request.Tenant, channel)).GetInfoAsync() is not { } info) return NoChannel(request, channel);
        var type = info.Type.ToString().ToLowerInvariant();
        // Parsed without the settings' rules: the grain fills the empty secrets from the stored ones, then checks them.
        var (settings, error) = ChannelSettingsParser.Parse(type, SettingsJson(request, type), validate: false);
        if (settings is null) return Problem(request, "That did not work", error!, StatusCodes.Status400BadRequest);
        var name = request.Field("name") is { Length: > 0 } given ? given : info.Name;
        var config = new ChannelConfig(name, request.Field("enabled") == "on", settings, info.RateLimit, KeepUnsetSecrets: true);
        await administration.PutChannelAsync(request.Tenant, channel, config, request.Account, http);
        return await EditAsync(request, channel, grains, "Saved.");
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, string channel, IGrainFactory grains, TenantAdministration administration)
    {
        var request = ConsoleRequest.Of(http);
        if (await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(request.Tenant, channel)).GetInfoAsync() is null) return NoChannel(request, channel);
        await administration.DeleteChannelAsync(request.Tenant, channel, request.Account, http);
        return await ListAsync(request, grains, $"Channel '{channel}' deleted.");
    }

    private static async Task<IResult> TestAsync(HttpContext http, string channel, IGrainFactory grains, TenantAdministration administration, TenantSendLimiter limiter)
    {
        var request = ConsoleRequest.Of(http);
        if (await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(request.Tenant, channel)).GetInfoAsync() is null) return NoChannel(request, channel);
        var status = await administration.SendTestAsync(request.Tenant, channel, request.Account, limiter, http);
        return await EditAsync(request, channel, grains, status is null ? "The test message was accepted; the cluster did not say more yet." : null, status);
    }

    private static async Task<IResult> RedriveAsync(HttpContext http, string channel, IGrainFactory grains, TenantAdministration administration)
    {
        var request = ConsoleRequest.Of(http);
        if (await grains.GetGrain<IChannelGrain>(GrainKeys.Channel(request.Tenant, channel)).GetInfoAsync() is null) return NoChannel(request, channel);
        var deliveryId = request.Field("deliveryId") is { Length: > 0 } id ? id : null;
        var count = await administration.RedriveAsync(request.Tenant, channel, deliveryId, request.Account, http);
        if (deliveryId is not null && count == 0)
            return Problem(request, "Not found", $"'{channel}' has no dead letter '{(deliveryId.Length > 100 ? deliveryId[..100] + "..." : deliveryId)}'.",
                StatusCodes.Status404NotFound);
        return await DeliveriesAsync(request, grains, $"{count} dead letter(s) of '{channel}' queued again.");
    }

    private static async Task<IResult> DeliveriesAsync(ConsoleRequest request, IGrainFactory grains, string? notice)
    {
        var channels = await ChannelsAsync(request.Tenant, grains);
        var views = await Task.WhenAll(channels.Select(async c =>
        {
            var grain = grains.GetGrain<IChannelGrain>(GrainKeys.Channel(request.Tenant, c.ChannelId));
            return (Channel: c, Recent: await grain.GetRecentDeliveriesAsync(), Dead: await grain.GetDeadLettersAsync());
        }));
        return Page(request, "deliveries", "Deliveries", html =>
        {
            var dead = views.SelectMany(v => v.Dead).ToList();
            html.Append("<h2 id=\"dead\">Dead letters</h2>");
            if (dead.Count == 0) html.Append("<p>No dead letters.</p>");
            else DeliveryTable(html, request, "Dead letters", dead, withChannel: true, redrive: true);
            html.Append("<h2 id=\"recent\">Recent deliveries</h2>");
            var recent = views.SelectMany(v => v.Recent.Take(DeliveriesShown)).OrderByDescending(d => d.UpdatedAt).ToList();
            if (recent.Count == 0) html.Append("<p>Nothing sent yet.</p>");
            else DeliveryTable(html, request, "Recent deliveries", recent, withChannel: true);
        }, StatusCodes.Status200OK, notice);
    }

    /// <summary>Deliveries with their receipts: state, attempts, the platform's message ids, the last error.</summary>
    private static void DeliveryTable(StringBuilder html, ConsoleRequest request, string label, IReadOnlyList<DeliveryStatus> deliveries, bool withChannel,
        bool redrive = false)
    {
        string[] headers = ["Delivery", .. withChannel ? new[] { "Channel" } : [], "Status", "Attempts", "Message ids", "Last error", "Updated",
            .. redrive ? new[] { "" } : []];
        html.Table(label, headers, deliveries, d =>
        [
            $"<code>{E(d.DeliveryId)}</code>",
            .. withChannel ? new[] { $"<a href=\"{E(request.Link("channels/" + d.ChannelId))}\">{E(d.ChannelId)}</a>" } : [],
            E(d.State.ToString().ToLowerInvariant()), $"{d.Attempts}",
            d.MessageIds.Count == 0 ? "" : $"<code class=\"receipt\">{E(string.Join(", ", d.MessageIds))}</code>", E(d.LastError), When(d.UpdatedAt),
            .. redrive ? new[] { Button(request.Link($"channels/{d.ChannelId}/redrive"), "Redrive", request.Csrf, ("deliveryId", d.DeliveryId)) } : [],
        ], "");
    }

    private static async Task<List<ChannelInfo>> ChannelsAsync(string tenant, IGrainFactory grains)
    {
        var owner = grains.GetGrain<ITenantGrain>(tenant);
        var ids = await owner.GetAsync() is null ? [] : await owner.GetChannelIdsAsync();
        var infos = await Task.WhenAll(ids.Select(id => grains.GetGrain<IChannelGrain>(GrainKeys.Channel(tenant, id)).GetInfoAsync()));
        return infos.OfType<ChannelInfo>().ToList();
    }

    /// <summary>The settings object the admin API takes, from the form's fields for <paramref name="type"/> ("{type}.{name}").</summary>
    private static JsonElement SettingsJson(ConsoleRequest request, string type)
    {
        var settings = new JsonObject();
        foreach (var (name, _, _) in Fields[type])
        {
            var value = request.Field(FieldId(type, name));
            if (name == "messageThreadId")
            {
                if (value.Length > 0) settings[name] = long.TryParse(value, out var number) ? JsonValue.Create(number) : JsonValue.Create(value);
            }
            else settings[name] = value;
        }
        return JsonSerializer.SerializeToElement(settings);
    }

    /// <summary>"{type}.{name}"; Discord and Slack both take a webhook URL, so the add form has one field for both ("discord.webhookUrl").</summary>
    private static string FieldId(string type, string name) => $"{(type == "slack" && name == "webhookUrl" ? "discord" : type)}.{name}";

    private static string Title(string type) => type == "discord" ? "Discord or Slack" : char.ToUpperInvariant(type[0]) + type[1..];

    private static IResult NoChannel(ConsoleRequest request, string channel) =>
        Problem(request, "Not found", $"This tenant has no channel '{channel}'.", StatusCodes.Status404NotFound);
}
