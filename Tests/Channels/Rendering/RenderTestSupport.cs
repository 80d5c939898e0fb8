using System.Text;
using System.Text.RegularExpressions;
using Dovecote.Grains.Channels.Discord;
using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Channels.Slack;
using Dovecote.Grains.Channels.Telegram;
using Dovecote.Grains.Interfaces.Channels;

namespace Dovecote.Tests.Channels.Rendering;

/// <summary>The three renderers behind one switch, and checks every rendering must pass.</summary>
internal static partial class RenderTestSupport
{
    public const string Telegram = "telegram";
    public const string Discord = "discord";
    public const string Slack = "slack";

    /// <summary>Theory data: every platform a renderer test runs for.</summary>
    public static TheoryData<string> Platforms => [Telegram, Discord, Slack];

    public static int MaxLength(string platform) => platform switch
    {
        Telegram => TelegramRenderer.MaxLength,
        Discord => DiscordRenderer.MaxLength,
        Slack => SlackRenderer.MaxLength,
        _ => throw new ArgumentOutOfRangeException(nameof(platform)),
    };

    public static IReadOnlyList<RenderedChunk> Render(string platform, Notification notification, int? maxLength = null, RenderLimits? limits = null)
    {
        var max = maxLength ?? MaxLength(platform);
        // A maximum below the platform's splits into many chunks on purpose; the chunk cap is for real lengths.
        limits ??= maxLength is null ? RenderLimits.Default : RenderLimits.Unbounded;
        var chunks = platform switch
        {
            Telegram => TelegramRenderer.Render(notification, max, limits),
            Discord => DiscordRenderer.Render(notification, max, limits),
            Slack => SlackRenderer.Render(notification, max, limits),
            _ => throw new ArgumentOutOfRangeException(nameof(platform)),
        };
        AssertWellFormed(platform, chunks, max);
        return chunks;
    }

    public static RenderedChunk Single(string platform, string markdown, MessageFormat format = MessageFormat.Markdown) =>
        Assert.Single(Render(platform, new Notification(markdown, Format: format)));

    /// <summary>Limits in both forms, no split surrogate pair, and valid HTML for Telegram.</summary>
    public static void AssertWellFormed(string platform, IReadOnlyList<RenderedChunk> chunks, int maxLength)
    {
        foreach (var chunk in chunks)
        {
            Assert.InRange(chunk.Text.Length, 1, maxLength);
            Assert.InRange(chunk.PlainText.Length, 1, maxLength);
            AssertNoLoneSurrogate(chunk.Text);
            AssertNoLoneSurrogate(chunk.PlainText);
            if (platform == Telegram)
            {
                TelegramHtmlChecker.AssertValid(chunk.Text);
            }
        }
    }

    /// <summary>Numbered words ("w00042") in the order they appear across all chunks' plain text.</summary>
    public static List<int> NumberedWords(IEnumerable<RenderedChunk> chunks)
    {
        // Chunks are joined with nothing between them: a word cut in two across chunks joins up again.
        var text = string.Concat(chunks.Select(c => c.PlainText));
        return [.. NumberedWord().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];
    }

    public static string Word(int n) => $"w{n:D5}";

    private static void AssertNoLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]))
            {
                Assert.True(i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]), $"lone high surrogate at {i}");
                i++;
            }
            else
            {
                Assert.False(char.IsLowSurrogate(text[i]), $"lone low surrogate at {i}");
            }
        }
    }

    [GeneratedRegex(@"w(\d{5})")]
    private static partial Regex NumberedWord();
}

/// <summary>
/// A small validator for Telegram's HTML parse mode: only the tags Telegram accepts, balanced and properly
/// nested, no nested blockquotes, attributes only where allowed, and every '&amp;' starting a known entity.
/// </summary>
internal static partial class TelegramHtmlChecker
{
    private static readonly HashSet<string> AllowedTags = ["b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"];

    public static void AssertValid(string html)
    {
        var open = new Stack<string>();
        var i = 0;
        while (i < html.Length)
        {
            var c = html[i];
            if (c == '<')
            {
                var end = html.IndexOf('>', i);
                Assert.True(end > i, $"unterminated tag at {i}: {Excerpt(html, i)}");
                CheckTag(html[(i + 1)..end], open, html, i);
                i = end + 1;
            }
            else if (c == '&')
            {
                var match = Entity().Match(html, i);
                Assert.True(match.Success && match.Index == i, $"malformed entity at {i}: {Excerpt(html, i)}");
                i += match.Length;
            }
            else
            {
                Assert.True(c != '>', $"unescaped '>' at {i}: {Excerpt(html, i)}");
                i++;
            }
        }

        Assert.True(open.Count == 0, $"unclosed tags: {string.Join(",", open)} in {Excerpt(html, 0)}");
    }

    private static void CheckTag(string tag, Stack<string> open, string html, int at)
    {
        if (tag.StartsWith('/'))
        {
            var name = tag[1..];
            Assert.True(open.Count > 0 && open.Peek() == name, $"unexpected </{name}> at {at}: {Excerpt(html, at)}");
            open.Pop();
            return;
        }

        var space = tag.IndexOf(' ');
        var tagName = space < 0 ? tag : tag[..space];
        var attributes = space < 0 ? "" : tag[(space + 1)..];
        Assert.Contains(tagName, AllowedTags);
        switch (tagName)
        {
            case "a":
                Assert.Matches(HrefAttribute(), attributes);
                break;
            case "code" when attributes.Length > 0:
                Assert.Matches(LanguageAttribute(), attributes);
                Assert.True(open.Count > 0 && open.Peek() == "pre", "a language class is only allowed on <code> directly inside <pre>");
                break;
            case "blockquote":
                Assert.DoesNotContain("blockquote", open);
                Assert.Equal("", attributes);
                break;
            default:
                Assert.Equal("", attributes);
                break;
        }

        // pre and code hold text only; the one exception is <pre><code class="language-x">.
        var languageCode = tagName == "code" && attributes.Length > 0;
        Assert.True(languageCode || !open.Contains("pre"), $"<{tagName}> inside <pre> at {at}");
        Assert.DoesNotContain("code", open);
        open.Push(tagName);
    }

    private static string Excerpt(string html, int at) => html.Substring(Math.Max(0, at - 40), Math.Min(80, html.Length - Math.Max(0, at - 40)));

    [GeneratedRegex(@"\G&(amp|lt|gt|quot|#[0-9]+|#x[0-9a-fA-F]+);")]
    private static partial Regex Entity();

    [GeneratedRegex("^href=\"(https?|tg|mailto):[^\"<>]*\"$")]
    private static partial Regex HrefAttribute();

    [GeneratedRegex("^class=\"language-[A-Za-z0-9+#._-]+\"$")]
    private static partial Regex LanguageAttribute();
}

/// <summary>Generates Markdown of every kind the renderers handle, with numbered words as its text.</summary>
internal sealed class MarkdownCorpus(int seed)
{
    private readonly Random _random = new(seed);
    private int _next = 1;

    public int WordCount => _next - 1;

    public string Document(int blocks)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < blocks; i++)
        {
            builder.Append(Block(depth: 0)).Append("\n\n");
        }

        return builder.ToString();
    }

    private string Block(int depth) => (depth > 1 ? _random.Next(3) : _random.Next(11)) switch
    {
        0 or 1 or 2 => Paragraph(),
        3 => $"{new string('#', _random.Next(1, 7))} {Inline()}",
        4 => List(depth),
        5 => Quote(depth),
        6 => Fence(),
        7 => Table(),
        8 => "---",
        9 => $"<div class=\"x\">\n{Words(_random.Next(1, 6))} &amp; <b>\n</div>",
        _ => $"    {Words(3)} <i> & \"\n    {Words(2)}",
    };

    private string Paragraph() => string.Join(_random.Next(4) == 0 ? "  \n" : "\n", Enumerable.Range(0, _random.Next(1, 4)).Select(_ => Inline()));

    private string Inline()
    {
        var parts = new List<string>();
        var count = _random.Next(1, 8);
        for (var i = 0; i < count; i++)
        {
            parts.Add(_random.Next(16) switch
            {
                0 => $"**{Words(_random.Next(1, 4))}**",
                1 => $"*{Words(_random.Next(1, 3))}*",
                2 => $"~~{Words(2)}~~",
                3 => $"`{Word()} <&> {Word()}`",
                4 => $"[{Words(2)}](https://example.com/{_random.Next(1000)}?a=1&b=\"2\")",
                5 => $"[{Word()}](javascript:alert({_random.Next(9)}))",
                6 => $"![{Word()}](https://img.example.com/{_random.Next(99)}.png)",
                7 => $"https://example.org/{_random.Next(99)}_{_random.Next(99)}",
                8 => $"<script>{Word()}</script>",
                9 => $"{Word()} & {Word()} < {Word()} > \"q\"",
                10 => $"😀{Word()}👍🏽{Word()}",
                11 => $"***{Words(2)}** {Word()}*",
                12 => $"\\*{Word()}\\* @everyone",
                13 => $"[{Word()}](https://example.com/{new string('x', _random.Next(500, 3000))})",
                14 => $"**{Words(_random.Next(1, 3))} [{Word()}](tg://resolve?domain=x)**",
                _ => Words(_random.Next(1, 30)),
            });
        }

        return string.Join(' ', parts);
    }

    private string List(int depth)
    {
        var ordered = _random.Next(2) == 0;
        var indent = ordered ? "   " : "  ";
        var lines = new List<string>();
        for (var i = 1; i <= _random.Next(1, 5); i++)
        {
            lines.Add($"{(ordered ? $"{i}." : "-")} {Inline()}");
            if (_random.Next(4) == 0)
            {
                lines.AddRange(Block(depth + 1).Split('\n').Select(l => indent + l));
            }
        }

        return string.Join('\n', lines);
    }

    private string Quote(int depth) => string.Join('\n', Block(depth + 1).Split('\n').Select(l => "> " + l));

    private string Fence()
    {
        var language = _random.Next(3) switch { 0 => "", 1 => "python", _ => "c#\"<x>" };
        var lines = Enumerable.Range(0, _random.Next(1, 40)).Select(_ => $"{Word()} = \"<{Word()}>\" && {new string(' ', _random.Next(8))}{Word()}");
        return $"```{language}\n{string.Join('\n', lines)}\n```";
    }

    private string Table()
    {
        var columns = _random.Next(1, 5);
        var rows = new List<string>
        {
            "| " + string.Join(" | ", Enumerable.Range(0, columns).Select(_ => Word())) + " |",
            "|" + string.Join("|", Enumerable.Range(0, columns).Select(_ => _random.Next(3) switch { 0 => ":--", 1 => "--:", _ => ":-:" })) + "|",
        };
        for (var r = 0; r < _random.Next(1, 8); r++)
        {
            rows.Add("| " + string.Join(" | ", Enumerable.Range(0, columns).Select(_ => $"**{Word()}** <{Word()}>")) + " |");
        }

        return string.Join('\n', rows);
    }

    private string Words(int count) => string.Join(' ', Enumerable.Range(0, count).Select(_ => Word()));

    private string Word() => RenderTestSupport.Word(_next++);
}
