using System.Security.Cryptography;
using System.Text;

namespace Dovecote.Grains.Interfaces.Budgets;

/// <summary>
/// Keys of the shared budgets: "{kind}.{hash}". The hash is of what the platform limits, so no token or URL ever appears
/// in a key, a log line or a metric. Discord buckets and Slack workspaces are named by answers and URLs a tenant
/// controls, so their keys include the tenant and host: a tenant can pause only its own channels. A bot token is the
/// credential itself, so channels of every tenant using that bot share its budget, as Telegram does.
/// </summary>
public static class BudgetKeys
{
    public const string TelegramBot = "telegram-bot";
    public const string DiscordBucket = "discord-bucket";
    public const string SlackWorkspace = "slack-team";

    public static string ForTelegramBot(string botToken) => Key(TelegramBot, botToken);

    public static string ForDiscordBucket(string tenant, Uri webhook, string bucket) => Key(DiscordBucket, tenant, webhook.Authority, bucket);

    /// <summary>The workspace of an incoming-webhook URL ("/services/T…/B…/…"), or null when the URL names none.</summary>
    public static string? ForSlackWorkspace(string tenant, string webhookUrl)
    {
        if (!Uri.TryCreate(webhookUrl, UriKind.Absolute, out var uri)) return null;
        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments is ["services", var team, _, ..] && team.StartsWith('T') ? Key(SlackWorkspace, tenant, uri.Authority, team) : null;
    }

    /// <summary>"bot budget", "Discord bucket budget", "Slack workspace budget": what a channel's health names.</summary>
    public static string Describe(string key) => key[..Math.Max(0, key.IndexOf('.'))] switch
    {
        TelegramBot => "bot budget",
        DiscordBucket => "Discord bucket budget",
        SlackWorkspace => "Slack workspace budget",
        _ => "shared budget",
    };

    private static string Key(string kind, params string[] parts) =>
        $"{kind}.{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(kind + "\n" + string.Join('\n', parts))))[..32]}";
}
