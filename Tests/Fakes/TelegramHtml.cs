using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Dovecote.Tests.Fakes;

/// <summary>
/// Telegram's <c>parse_mode=HTML</c> parser, rewritten from the behaviour of TDLib's <c>parse_html</c>: it walks
/// the UTF-8 bytes, reports errors with byte offsets, and yields the visible text (tags removed, entities
/// decoded) whose UTF-16 length is what the 4096 limit counts.
/// </summary>
internal static class TelegramHtml
{
    private static readonly HashSet<string> SupportedTags =
    [
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
        "span", "tg-spoiler", "tg-emoji", "code", "pre", "blockquote",
    ];

    /// <summary>
    /// Parses <paramref name="html"/>. On failure <paramref name="error"/> is TDLib's message, which the Bot API
    /// returns as "Bad Request: can't parse entities: {error}".
    /// </summary>
    /// <param name="rejectBareAmpersand">
    /// TDLib keeps a '&amp;' that starts no entity as a literal character; the Bot API documentation still
    /// requires it to be escaped. When true the parser enforces the documented rule.
    /// </param>
    public static bool TryParse(string html, bool rejectBareAmpersand, [NotNullWhen(true)] out string? visibleText, [NotNullWhen(false)] out string? error)
    {
        var text = Encoding.UTF8.GetBytes(html);
        var output = new List<byte>(text.Length);
        var open = new Stack<(string Tag, string Argument)>();
        var decodedSurrogate = false;
        visibleText = null;

        // TDLib reads a NUL-terminated buffer: past the end is 0.
        byte At(int index) => index < text.Length ? text[index] : (byte)0;

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '&')
            {
                var end = i;
                var code = DecodeEntity(text, ref end);
                if (code != 0)
                {
                    decodedSurrogate |= code is >= 0xD800 and <= 0xDFFF;
                    AppendUtf8(output, code);
                    i = end - 1;
                    continue;
                }

                if (rejectBareAmpersand)
                {
                    error = Invariant($"Character \"&\" must be escaped as \"&amp;\" at byte offset {i}");
                    return false;
                }
            }

            if (c != '<')
            {
                output.Add(c);
                continue;
            }

            var begin = i++;
            if (At(i) != '/')
            {
                // Start tag: the name runs to the first space or '>'.
                while (!IsSpace(At(i)) && At(i) != '>')
                {
                    i++;
                }

                if (At(i) == 0)
                {
                    error = Invariant($"Unclosed start tag at byte offset {begin}");
                    return false;
                }

                var tag = LowerAscii(text, begin + 1, i - begin - 1);
                if (!SupportedTags.Contains(tag))
                {
                    error = Invariant($"Unsupported start tag \"{tag}\" at byte offset {begin}");
                    return false;
                }

                var argument = string.Empty;
                while (At(i) != '>')
                {
                    while (At(i) != 0 && IsSpace(At(i)))
                    {
                        i++;
                    }

                    if (At(i) == '>')
                    {
                        break;
                    }

                    var nameBegin = i;
                    while (!IsSpace(At(i)) && At(i) is not (byte)'=' and not (byte)'>' and not (byte)'/' and not (byte)'"' and not (byte)'\'')
                    {
                        i++;
                    }

                    var attribute = Encoding.UTF8.GetString(text, nameBegin, i - nameBegin);
                    if (attribute.Length == 0)
                    {
                        error = Invariant($"Empty attribute name in the tag \"{tag}\" at byte offset {begin}");
                        return false;
                    }

                    while (At(i) != 0 && IsSpace(At(i)))
                    {
                        i++;
                    }

                    if (At(i) != '=')
                    {
                        // Attribute without a value: only <blockquote expandable> means anything.
                        if (At(i) == 0)
                        {
                            error = Invariant($"Unclosed start tag \"{tag}\" at byte offset {begin}");
                            return false;
                        }

                        if (tag == "blockquote" && attribute == "expandable")
                        {
                            argument = "1";
                        }

                        continue;
                    }

                    i++;
                    while (At(i) != 0 && IsSpace(At(i)))
                    {
                        i++;
                    }

                    if (At(i) == 0)
                    {
                        error = Invariant($"Unclosed start tag \"{tag}\" at byte offset {begin}");
                        return false;
                    }

                    string value;
                    if (At(i) is not (byte)'"' and not (byte)'\'')
                    {
                        // Unquoted name token: letters, digits, '.', '-'; case-insensitive.
                        var tokenBegin = i;
                        while (IsAsciiLetterOrDigit(At(i)) || At(i) == '.' || At(i) == '-')
                        {
                            i++;
                        }

                        value = LowerAscii(text, tokenBegin, i - tokenBegin);
                        if (!IsSpace(At(i)) && At(i) != '>')
                        {
                            error = Invariant($"Unexpected end of name token at byte offset {tokenBegin}");
                            return false;
                        }
                    }
                    else
                    {
                        // Quoted string literal; entities are decoded, a stray '&' is kept (it is part of a tag).
                        var quote = At(i++);
                        var bytes = new List<byte>();
                        while (At(i) != quote && At(i) != 0)
                        {
                            if (At(i) == '&')
                            {
                                var end = i;
                                var code = DecodeEntity(text, ref end);
                                if (code != 0)
                                {
                                    AppendUtf8(bytes, code);
                                    i = end;
                                    continue;
                                }
                            }

                            bytes.Add(At(i++));
                        }

                        if (At(i) == quote)
                        {
                            i++;
                        }

                        value = Encoding.UTF8.GetString([.. bytes]);
                    }

                    if (At(i) == 0)
                    {
                        error = Invariant($"Unclosed start tag at byte offset {begin}");
                        return false;
                    }

                    argument = (tag, attribute) switch
                    {
                        ("a", "href") => value,
                        ("code", "class") when value.StartsWith("language-", StringComparison.Ordinal) => value["language-".Length..],
                        ("span", "class") when value.StartsWith("tg-", StringComparison.Ordinal) => value["tg-".Length..],
                        ("tg-emoji", "emoji-id") => value,
                        ("blockquote", "expandable") => "1",
                        _ => argument,
                    };
                }

                if (tag == "span" && argument != "spoiler")
                {
                    error = Invariant($"Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}");
                    return false;
                }

                open.Push((tag, argument));
            }
            else
            {
                // End tag: must close the innermost open tag ("</>" closes anything).
                if (open.Count == 0)
                {
                    error = Invariant($"Unexpected end tag at byte offset {begin}");
                    return false;
                }

                while (!IsSpace(At(i)) && At(i) != '>')
                {
                    i++;
                }

                var endTag = LowerAscii(text, begin + 2, i - begin - 2);
                while (IsSpace(At(i)) && At(i) != 0)
                {
                    i++;
                }

                if (At(i) != '>')
                {
                    error = Invariant($"Unclosed end tag at byte offset {begin}");
                    return false;
                }

                var (tag, argument) = open.Pop();
                if (endTag.Length != 0 && endTag != tag)
                {
                    error = Invariant($"Unmatched end tag at byte offset {begin}, expected \"</{tag}>\", found \"</{endTag}>\"");
                    return false;
                }

                if (tag == "tg-emoji"
                    && (!long.TryParse(argument, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var emojiId) || emojiId == 0))
                {
                    error = "Invalid custom emoji identifier specified";
                    return false;
                }
            }
        }

        if (open.Count != 0)
        {
            error = $"Can't find end tag corresponding to start tag \"{open.Peek().Tag}\"";
            return false;
        }

        if (decodedSurrogate)
        {
            error = "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units";
            return false;
        }

        visibleText = Encoding.UTF8.GetString([.. output]);
        error = null;
        return true;
    }

    /// <summary>
    /// Decodes the entity at <paramref name="pos"/> ('&amp;'): &amp;lt; &amp;gt; &amp;amp; &amp;quot; and decimal
    /// or hex numeric references, the ';' optional. Returns 0 (and leaves <paramref name="pos"/>) when it is none.
    /// </summary>
    private static int DecodeEntity(byte[] text, ref int pos)
    {
        byte At(int index) => index < text.Length ? text[index] : (byte)0;
        const int Saturated = 0x110000;

        var end = pos + 1;
        int code;
        if (At(pos + 1) == '#')
        {
            end++;
            code = 0;
            if (At(pos + 2) == 'x')
            {
                end++;
                while (char.IsAsciiHexDigit((char)At(end)))
                {
                    code = Math.Min(code * 16 + HexValue(At(end++)), Saturated);
                }
            }
            else
            {
                while (char.IsAsciiDigit((char)At(end)))
                {
                    code = Math.Min(code * 10 + (At(end++) - '0'), Saturated);
                }
            }

            if (code == 0 || code >= 0x10FFFF || end - pos >= 10)
            {
                return 0;
            }
        }
        else
        {
            while (char.IsAsciiLetter((char)At(end)))
            {
                end++;
            }

            code = Encoding.ASCII.GetString(text, pos + 1, end - pos - 1) switch
            {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                _ => 0,
            };
            if (code == 0)
            {
                return 0;
            }
        }

        pos = At(end) == ';' ? end + 1 : end;
        return code;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => c - 'A' + 10,
    };

    private static void AppendUtf8(List<byte> output, int code)
    {
        // Surrogates are written as their 3-byte form here and rejected after parsing, like TDLib.
        if (code < 0x80)
        {
            output.Add((byte)code);
        }
        else if (code < 0x800)
        {
            output.Add((byte)(0xC0 | (code >> 6)));
            output.Add((byte)(0x80 | (code & 0x3F)));
        }
        else if (code < 0x10000)
        {
            output.Add((byte)(0xE0 | (code >> 12)));
            output.Add((byte)(0x80 | ((code >> 6) & 0x3F)));
            output.Add((byte)(0x80 | (code & 0x3F)));
        }
        else
        {
            output.Add((byte)(0xF0 | (code >> 18)));
            output.Add((byte)(0x80 | ((code >> 12) & 0x3F)));
            output.Add((byte)(0x80 | ((code >> 6) & 0x3F)));
            output.Add((byte)(0x80 | (code & 0x3F)));
        }
    }

    // TDLib's is_space, which also treats the terminating NUL as a space.
    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0 or (byte)'\v';

    private static bool IsAsciiLetterOrDigit(byte c) => char.IsAsciiLetterOrDigit((char)c);

    private static string LowerAscii(byte[] text, int start, int length)
    {
        var copy = text.AsSpan(start, length).ToArray();
        for (var k = 0; k < copy.Length; k++)
        {
            if (copy[k] is >= (byte)'A' and <= (byte)'Z')
            {
                copy[k] += 'a' - 'A';
            }
        }

        return Encoding.UTF8.GetString(copy);
    }

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
