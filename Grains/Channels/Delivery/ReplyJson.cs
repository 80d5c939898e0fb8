using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Dovecote.Grains.Channels.Delivery;

/// <summary>
/// The scalar members of a destination's JSON answer, read forward from a body that may be cut at the
/// read bound or be garbage: top-level members by name ("ok") and members of top-level objects as
/// "parent.name" ("parameters.retry_after"). Reading stops quietly at the end of the data, at the first
/// thing that is not JSON, or past the depth limit, keeping what it found; it never throws. Platforms put
/// the members we need first (Telegram's "ok" and "result.message_id", Discord's "id"), so a long success
/// body cut at 16 KiB still reads as a success.
/// </summary>
public sealed class ReplyJson
{
    // Deeper nesting than any platform answer uses is an attack on the parser, not an answer.
    private const int MaxDepth = 16;

    private readonly Dictionary<string, (JsonTokenType Type, string? Text)> _members = new(StringComparer.Ordinal);

    private ReplyJson()
    {
    }

    /// <summary>False when the body did not start as a JSON object (empty, text, an array ...).</summary>
    public bool IsObject { get; private set; }

    public static ReplyJson Read(string body)
    {
        var reply = new ReplyJson();
        if (string.IsNullOrWhiteSpace(body)) return reply;
        // isFinalBlock: false, so a cut-off body ends the walk instead of failing it, and a number at the
        // cut is never read half.
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(body), isFinalBlock: false, new JsonReaderState(new JsonReaderOptions { MaxDepth = MaxDepth }));
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return reply;
            reply.IsObject = true;
            string? parent = null, name = null;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName when reader.CurrentDepth <= 2:
                        name = reader.GetString();
                        break;
                    case JsonTokenType.StartObject when reader.CurrentDepth == 1:
                        parent = name;
                        break;
                    case JsonTokenType.EndObject when reader.CurrentDepth == 1:
                        parent = null;
                        break;
                    case JsonTokenType.String or JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null
                        when name is not null && reader.CurrentDepth is 1 or 2:
                        var path = reader.CurrentDepth == 1 ? name : parent is null ? null : $"{parent}.{name}";
                        if (path is not null) reply._members.TryAdd(path, (reader.TokenType, ScalarText(ref reader)));
                        name = null;
                        break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Garbage after the good part, too deep, or an escaped lone surrogate (GetString throws on it).
        }
        return reply;
    }

    public bool IsTrue(string path) => _members.TryGetValue(path, out var m) && m.Type == JsonTokenType.True;

    public string? String(string path) => _members.TryGetValue(path, out var m) && m.Type == JsonTokenType.String ? m.Text : null;

    /// <summary>An integral JSON number that fits a long; 1e3, 2.5 and 1e400 do not.</summary>
    public long? Int64(string path) =>
        Number(path) is { } raw && long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>A JSON number of seconds, through <see cref="RetryAfter"/>'s rules.</summary>
    public TimeSpan? Seconds(string path) => RetryAfter.ParseJsonNumber(Number(path));

    private string? Number(string path) => _members.TryGetValue(path, out var m) && m.Type == JsonTokenType.Number ? m.Text : null;

    private static string? ScalarText(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString(),
                JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                _ => null,
            };
        }
        catch (InvalidOperationException)
        {
            return null; // a string we cannot decode is no value; keep reading the rest
        }
    }
}
