using System.Buffers.Text;
using System.Text;
using Dovecote.Grains.Interfaces.Tenants;

namespace Dovecote.Api.Mcp;

/// <summary>
/// list_channels' opaque next_cursor: base64url of "{tenant}/{last channel id of the page}". It names the tenant it was
/// issued to, so another tenant's cursor is refused instead of read as a place in its own list.
/// </summary>
public static class ChannelListCursor
{
    /// <summary>Far above any cursor we issue (63 + 1 + 64 characters, base64url), so a long argument is refused unread.</summary>
    public const int MaxLength = 256;

    public const string Problem = "cursor is not one list_channels gave you: pass the next_cursor of the previous page as it is, or leave it out for the first page";

    public static string Encode(string tenant, string lastChannelId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{tenant}/{lastChannelId}"));

    /// <summary>The channel id the next page starts after, or null when <paramref name="cursor"/> is not one issued to <paramref name="tenant"/>.</summary>
    public static string? Decode(string tenant, string cursor)
    {
        if (cursor.Length is 0 or > MaxLength || !Base64Url.IsValid(cursor)) return null;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return null;
        }
        var slash = text.IndexOf('/');
        if (slash <= 0 || !string.Equals(text[..slash], tenant, StringComparison.Ordinal)) return null;
        var channelId = text[(slash + 1)..];
        return GrainKeys.IsValidChannelId(channelId) ? channelId : null;
    }
}
