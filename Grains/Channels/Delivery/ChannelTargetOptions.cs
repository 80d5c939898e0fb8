using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Dovecote.Grains.Channels.Delivery;

/// <summary>Where senders go. Bound from the root of configuration; the SSRF guard has its own OutboundAddressOptions.</summary>
public sealed class ChannelTargetOptions
{
    [ConfigurationKeyName("TELEGRAM_API_BASE_URL"), Url]
    public string TelegramApiBaseUrl { get; set; } = "https://api.telegram.org";
}
