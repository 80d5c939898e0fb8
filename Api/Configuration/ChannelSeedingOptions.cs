using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Dovecote.Api.Admin;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Api.Configuration;

/// <summary>
/// What start-up seeds into tenant "default": channels from the *_INSTANCES variables (JSON arrays, one per channel type)
/// and the consent-page password. Bound from the root of configuration.
/// </summary>
public sealed class ChannelSeedingOptions
{
    [ConfigurationKeyName("TELEGRAM_INSTANCES"), ChannelInstances("telegram")]
    public string? TelegramInstances { get; set; }

    [ConfigurationKeyName("DISCORD_INSTANCES"), ChannelInstances("discord")]
    public string? DiscordInstances { get; set; }

    [ConfigurationKeyName("SLACK_INSTANCES"), ChannelInstances("slack")]
    public string? SlackInstances { get; set; }

    [ConfigurationKeyName("WEBHOOK_INSTANCES"), ChannelInstances("webhook")]
    public string? WebhookInstances { get; set; }

    /// <summary>The password of tenant "default" on the consent page; unset (or empty) leaves the stored one alone.</summary>
    [ConfigurationKeyName("OAUTH_PASSWORD"), MinLength(8, ErrorMessage = "{0} must be at least 8 characters")]
    public string? DefaultPassword { get; set => field = string.IsNullOrEmpty(value) ? null : value; }

    /// <summary>Every seeded channel. Validation has refused any value this could not read.</summary>
    public IReadOnlyList<(string ChannelId, ChannelConfig Config)> Channels() =>
    [
        .. ChannelInstancesAttribute.Parse("telegram", TelegramInstances).Channels,
        .. ChannelInstancesAttribute.Parse("discord", DiscordInstances).Channels,
        .. ChannelInstancesAttribute.Parse("slack", SlackInstances).Channels,
        .. ChannelInstancesAttribute.Parse("webhook", WebhookInstances).Channels,
    ];
}

/// <summary>A *_INSTANCES value: a JSON array of channels of one type, each with its own id ("{type}-{id}" is the channel id).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ChannelInstancesAttribute(string type) : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context) =>
        Parse(type, value as string).Problem is { } problem ? new ValidationResult(context.DisplayName + problem) : ValidationResult.Success;

    /// <summary>The channels, or the first problem, worded to follow the variable's name (never echoing a secret).</summary>
    public static (List<(string ChannelId, ChannelConfig Config)> Channels, string? Problem) Parse(string type, string? json)
    {
        var channels = new List<(string, ChannelConfig)>();
        if (string.IsNullOrEmpty(json)) return (channels, null);
        JsonElement instances;
        try { instances = JsonDocument.Parse(json).RootElement; }
        catch (JsonException) { return (channels, " is not valid JSON: expected an array of objects"); }
        if (instances.ValueKind != JsonValueKind.Array) return (channels, " must be a JSON array");

        var index = 0;
        foreach (var instance in instances.EnumerateArray())
        {
            var where = $"[{index++}]";
            var id = instance.ValueKind == JsonValueKind.Object && instance.TryGetProperty("id", out var idValue) ? idValue.ToString() : null;
            var channelId = $"{type}-{id}";
            if (string.IsNullOrEmpty(id) || !GrainKeys.IsValidChannelId(channelId))
                return (channels, $"{where}.id is required: letters, digits, '.', '_' or '-' (the channel id is '{type}-{id}', at most 64 characters)");
            var (settings, error) = ChannelSettingsParser.Parse(type, instance);
            if (settings is null) return (channels, $"{where}: {error}");
            if (channels.Any(c => c.Item1 == channelId)) return (channels, $": channel '{channelId}' is configured twice");
            channels.Add((channelId, new ChannelConfig(id, Enabled: true, settings)));
        }
        return (channels, null);
    }
}
