namespace Dovecote.Grains.Interfaces.Channels;

[GenerateSerializer, Alias("dovecote.ChannelType")]
public enum ChannelType
{
    Telegram = 0,
    Discord = 1,
    Slack = 2,
    Webhook = 3,
}
