using System.Text.Json;

namespace Dovecote.Api.Admin;

/// <summary>Reads the documented settings shapes (admin bodies and *_INSTANCES variables) into typed settings.</summary>
public static class ChannelSettingsParser
{
    public static readonly string[] Types = ["telegram", "discord", "slack", "webhook"];

    /// <summary>
    /// The settings, or the first problem with them (never echoing a secret). <paramref name="validate"/> false leaves the
    /// settings' own rules to the channel grain (the console's edit, whose empty secrets the grain fills from the stored ones).
    /// </summary>
    public static (ChannelSettings? Settings, string? Error) Parse(string? type, JsonElement settings, bool validate = true)
    {
        if (settings.ValueKind != JsonValueKind.Object) return (null, "settings must be an object");
        try
        {
            ChannelSettings parsed = type switch
            {
                "telegram" => new TelegramSettings(Text(settings, "botToken"), Text(settings, "chatId"), OptionalLong(settings, "messageThreadId")),
                "discord" => new DiscordSettings(Text(settings, "webhookUrl")),
                "slack" => new SlackSettings(Text(settings, "webhookUrl")),
                "webhook" => new WebhookSettings(Text(settings, "url"), Text(settings, "secret")),
                _ => throw new FormatException($"type must be one of {string.Join(", ", Types)}"),
            };
            return validate && parsed.Validate() is { } problem ? (null, problem) : (parsed, null);
        }
        catch (FormatException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Chat ids arrive as numbers or strings; both mean the same chat.</summary>
    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Number => value.GetRawText(),
                _ => throw new FormatException($"{name} must be a string"),
            }
            : throw new FormatException($"{name} is required");

    private static long? OptionalLong(JsonElement element, string name) =>
        !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.TryGetInt64(out var number) ? number
        : throw new FormatException($"{name} must be a whole number");
}
