namespace Dovecote.Grains.Channels.Rendering;

/// <summary>
/// One message's worth of rendered content. <see cref="Text"/> is sent in the platform's formatting;
/// <see cref="PlainText"/> is the same chunk without markup, resent once if the platform rejects the markup.
/// Public because the public <c>IChannelSender</c> and <c>SendRequest</c> carry it.
/// </summary>
public sealed record RenderedChunk(string Text, string PlainText);
