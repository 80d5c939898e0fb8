namespace Dovecote.Grains.Channels.Rendering;

/// <summary>
/// How raw text becomes platform markup and plain text. Encodings work character by character (apart from
/// line starts) so that the chunker can cut raw text anywhere and re-encode both halves: a cut can then never
/// land inside an escape such as <c>&amp;amp;</c>.
/// </summary>
internal sealed class TextEncoding(Func<string, bool, string> markup, Func<string, string> plain)
{
    /// <summary>The markup for <paramref name="raw"/>; <paramref name="atLineStart"/> says nothing but prefixes precede it on its line.</summary>
    public string Markup(string raw, bool atLineStart) => markup(raw, atLineStart);

    public string Plain(string raw) => plain(raw);
}
