using System.Text;

namespace Dovecote.Grains.Channels.Rendering;

internal static class LinkRules
{
    /// <summary>
    /// Whether a link target is absolute and uses one of the given schemes. Anything else (javascript:,
    /// data:, relative paths) is never made clickable: the label is shown as plain text instead.
    /// </summary>
    public static bool HasScheme(string url, params ReadOnlySpan<string> schemes)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }

        foreach (var scheme in schemes)
        {
            if (string.Equals(uri.Scheme, scheme, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Percent-encodes the characters that would end the link syntax a platform wraps the URL in.</summary>
    public static string PercentEncode(string url, string characters)
    {
        if (url.AsSpan().IndexOfAny(characters) < 0)
        {
            return url;
        }

        var builder = new StringBuilder(url.Length + 8);
        foreach (var c in url)
        {
            if (characters.Contains(c))
            {
                builder.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
