using System.Text.Json.Serialization;

namespace Dovecote.Grains.Interfaces.Channels;

/// <summary>Where a channel delivers. Every subtype holds credentials, so none prints them.</summary>
[GenerateSerializer, Alias("dovecote.ChannelSettings")]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(TelegramSettings), "telegram")]
[JsonDerivedType(typeof(DiscordSettings), "discord")]
[JsonDerivedType(typeof(SlackSettings), "slack")]
[JsonDerivedType(typeof(WebhookSettings), "webhook")]
public abstract record ChannelSettings
{
    [JsonIgnore]
    public abstract ChannelType Type { get; }

    /// <summary>The settings with secrets masked, safe to show an operator.</summary>
    public abstract IReadOnlyDictionary<string, string> Describe();

    /// <summary>The first problem with these settings, or null when they are usable.</summary>
    public abstract string? Validate();

    /// <summary>These settings with each secret left empty taken from <paramref name="stored"/> when it is of the same type.</summary>
    public abstract ChannelSettings WithUnsetSecretsFrom(ChannelSettings? stored);

    /// <summary>Keeps "1234:****" of a secret: enough to recognise it, not to use it.</summary>
    protected static string Mask(string secret, int visible = 4) =>
        secret.Length <= visible * 2 ? "****" : string.Concat(secret.AsSpan(0, visible), "****");

    protected static string MaskUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/****" : "****";

    protected static string? ValidateHttpUrl(string? url, string field) =>
        string.IsNullOrWhiteSpace(url) ? $"{field} is required"
        : !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            ? $"{field} must be an absolute http(s) URL"
        : !string.IsNullOrEmpty(uri.UserInfo) ? $"{field} must not carry credentials in the URL"
        : null;
}

[GenerateSerializer, Alias("dovecote.TelegramSettings")]
public sealed record TelegramSettings(
    [property: Id(0)] string BotToken,
    [property: Id(1)] string ChatId,
    [property: Id(2)] long? MessageThreadId = null) : ChannelSettings
{
    public override ChannelType Type => ChannelType.Telegram;

    public override ChannelSettings WithUnsetSecretsFrom(ChannelSettings? stored) =>
        string.IsNullOrEmpty(BotToken) && stored is TelegramSettings old ? this with { BotToken = old.BotToken } : this;

    /// <summary>Negative chat ids are groups and supergroups, which Telegram limits to 20 messages a minute.</summary>
    [JsonIgnore]
    public bool IsGroupChat => ChatId.StartsWith('-');

    public override IReadOnlyDictionary<string, string> Describe() => new Dictionary<string, string>
    {
        ["botToken"] = Mask(BotToken),
        ["chatId"] = ChatId,
        ["messageThreadId"] = MessageThreadId?.ToString() ?? "",
    };

    public override string? Validate() =>
        string.IsNullOrWhiteSpace(BotToken) ? "botToken is required"
        : BotToken.Any(c => char.IsWhiteSpace(c) || c == '/') ? "botToken must not contain spaces or '/'"
        : string.IsNullOrWhiteSpace(ChatId) ? "chatId is required"
        : !(long.TryParse(ChatId, out _) || (ChatId.StartsWith('@') && ChatId.Length > 1)) ? "chatId must be a number or an @channel name"
        : null;

    public override string ToString() => $"TelegramSettings {{ ChatId = {ChatId}, BotToken = {Mask(BotToken)} }}";
}

[GenerateSerializer, Alias("dovecote.DiscordSettings")]
public sealed record DiscordSettings([property: Id(0)] string WebhookUrl) : ChannelSettings
{
    public override ChannelType Type => ChannelType.Discord;
    public override ChannelSettings WithUnsetSecretsFrom(ChannelSettings? stored) =>
        string.IsNullOrEmpty(WebhookUrl) && stored is DiscordSettings old ? old : this;
    public override IReadOnlyDictionary<string, string> Describe() => new Dictionary<string, string> { ["webhookUrl"] = MaskUrl(WebhookUrl) };
    public override string? Validate() => ValidateHttpUrl(WebhookUrl, "webhookUrl");
    public override string ToString() => $"DiscordSettings {{ WebhookUrl = {MaskUrl(WebhookUrl)} }}";
}

[GenerateSerializer, Alias("dovecote.SlackSettings")]
public sealed record SlackSettings([property: Id(0)] string WebhookUrl) : ChannelSettings
{
    public override ChannelType Type => ChannelType.Slack;
    public override ChannelSettings WithUnsetSecretsFrom(ChannelSettings? stored) =>
        string.IsNullOrEmpty(WebhookUrl) && stored is SlackSettings old ? old : this;
    public override IReadOnlyDictionary<string, string> Describe() => new Dictionary<string, string> { ["webhookUrl"] = MaskUrl(WebhookUrl) };
    public override string? Validate() => ValidateHttpUrl(WebhookUrl, "webhookUrl");
    public override string ToString() => $"SlackSettings {{ WebhookUrl = {MaskUrl(WebhookUrl)} }}";
}

/// <summary>A generic HTTPS endpoint signed per Standard Webhooks; the secret is "whsec_" + base64.</summary>
[GenerateSerializer, Alias("dovecote.WebhookSettings")]
public sealed record WebhookSettings([property: Id(0)] string Url, [property: Id(1)] string Secret) : ChannelSettings
{
    public const string SecretPrefix = "whsec_";

    public override ChannelType Type => ChannelType.Webhook;

    /// <summary>The URL is masked on read too (it may carry a token in its path), so both are kept when left empty.</summary>
    public override ChannelSettings WithUnsetSecretsFrom(ChannelSettings? stored) => stored is WebhookSettings old
        ? new WebhookSettings(string.IsNullOrEmpty(Url) ? old.Url : Url, string.IsNullOrEmpty(Secret) ? old.Secret : Secret)
        : this;
    public override IReadOnlyDictionary<string, string> Describe() => new Dictionary<string, string>
    {
        ["url"] = MaskUrl(Url),
        ["secret"] = SecretPrefix + "****",
    };

    public override string? Validate() => ValidateHttpUrl(Url, "url") ?? ValidateSecret();

    /// <summary>The HMAC key: the decoded bytes after "whsec_".</summary>
    public byte[] SigningKey() => Convert.FromBase64String(Secret[SecretPrefix.Length..]);

    private string? ValidateSecret()
    {
        if (string.IsNullOrEmpty(Secret) || !Secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
            return "secret must be 'whsec_' followed by base64";
        try
        {
            var length = SigningKey().Length;
            return length is >= 24 and <= 64 ? null : "secret must decode to 24 to 64 bytes";
        }
        catch (FormatException)
        {
            return "secret must be 'whsec_' followed by base64";
        }
    }

    public override string ToString() => $"WebhookSettings {{ Url = {MaskUrl(Url)}, Secret = {SecretPrefix}**** }}";
}
