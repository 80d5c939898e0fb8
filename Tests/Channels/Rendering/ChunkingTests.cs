using System.Text;
using Dovecote.Grains.Interfaces.Channels;
using static Dovecote.Tests.Channels.Rendering.RenderTestSupport;

namespace Dovecote.Tests.Channels.Rendering;

/// <summary>Splitting rules every renderer must keep; each test runs for all three platforms.</summary>
public sealed class ChunkingTests
{
    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void A_long_mixed_message_splits_within_limits_and_loses_no_word(string platform)
    {
        var (markdown, words) = MixedMessage(minimumLength: 20_000);
        Assert.True(markdown.Length >= 20_000);

        var chunks = Render(platform, new Notification(markdown));

        Assert.True(chunks.Count >= 20_000 / MaxLength(platform));
        Assert.Equal(Enumerable.Range(1, words), NumberedWords(chunks));
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void Random_markdown_renders_within_limits_and_loses_no_word(string platform)
    {
        foreach (var seed in Enumerable.Range(100, 10))
        {
            var corpus = new MarkdownCorpus(seed);
            var markdown = corpus.Document(blocks: 25);
            foreach (var max in new[] { 64, 200, MaxLength(platform) })
            {
                var chunks = Render(platform, new Notification(markdown), max);

                Assert.Equal(Enumerable.Range(1, corpus.WordCount), NumberedWords(chunks));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void Small_blocks_are_packed_together_and_split_only_between_blocks(string platform)
    {
        var paragraphs = Enumerable.Range(1, 60).Select(i => $"Paragraph {Word(i)} with some filler text to give it length.").ToList();

        var chunks = Render(platform, new Notification(string.Join("\n\n", paragraphs)), 200);

        // Greedy packing: each chunk holds whole paragraphs, and the next paragraph would not have fitted.
        var index = 0;
        foreach (var chunk in chunks)
        {
            var count = chunk.PlainText.Split("\n\n").Length;
            Assert.Equal(string.Join("\n\n", paragraphs.Skip(index).Take(count)), chunk.PlainText);
            index += count;
            if (index < paragraphs.Count)
            {
                Assert.True(chunk.Text.Length + 2 + paragraphs[index].Length > 200);
            }
        }

        Assert.Equal(paragraphs.Count, index);
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void A_giant_code_block_splits_with_balanced_fences(string platform)
    {
        var code = string.Join('\n', Enumerable.Range(1, 1500).Select(i => $"let {Word(i)} = a < b && c > d; // line {i}"));

        var chunks = Render(platform, new Notification($"Intro.\n\n```rust\n{code}\n```\n\nOutro."));

        Assert.True(chunks.Count > 10);
        foreach (var chunk in chunks.Where(c =>
            c.PlainText.Contains(Word(1), StringComparison.Ordinal) || c.PlainText.Contains("let ", StringComparison.Ordinal)))
        {
            if (platform == Telegram)
            {
                Assert.Equal(Count(chunk.Text, "<pre><code class=\"language-rust\">"), Count(chunk.Text, "</code></pre>"));
            }
            else
            {
                Assert.True(Count(chunk.Text, "```") % 2 == 0, $"unbalanced fence in: {chunk.Text[..80]}");
            }
        }

        Assert.Equal(Enumerable.Range(1, 1500), NumberedWords(chunks));
        Assert.StartsWith("Intro.", chunks[0].PlainText, StringComparison.Ordinal);
        Assert.EndsWith("Outro.", chunks[^1].PlainText, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void Emoji_are_never_split_at_a_chunk_boundary(string platform)
    {
        // An odd limit puts a naive cut in the middle of a surrogate pair.
        var emoji = string.Concat(Enumerable.Repeat("😀👍🏽🎉", 400));

        var chunks = Render(platform, new Notification(emoji), 101);

        Assert.True(chunks.Count > 1);
        Assert.Equal(emoji, string.Concat(chunks.Select(c => c.PlainText)));
        Assert.All(chunks.SkipLast(1), c => Assert.False(c.PlainText.EndsWith("👍", StringComparison.Ordinal), "skin tone modifier cut off"));
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void A_word_longer_than_a_chunk_is_hard_cut(string platform)
    {
        var word = string.Concat(Enumerable.Range(0, 5000).Select(i => (char)('a' + (i % 26))));

        var chunks = Render(platform, new Notification($"before {word} after"), 300);

        Assert.True(chunks.Count >= 5000 / 300);
        Assert.Equal($"before{word}after", string.Concat(chunks.Select(c => c.PlainText)).Replace(" ", "", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void Rendering_is_deterministic(string platform)
    {
        var (markdown, _) = MixedMessage(minimumLength: 12_000);
        var notification = new Notification(markdown, "Title", "https://example.com/x");

        var first = Render(platform, notification);
        var second = Render(platform, notification);

        Assert.Equal(first, second);
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void Title_starts_the_first_chunk_and_url_ends_the_last(string platform)
    {
        var (markdown, _) = MixedMessage(minimumLength: 9_000);

        var chunks = Render(platform, new Notification(markdown, "Nightly report", "https://example.com/report/7"));

        Assert.True(chunks.Count > 1);
        Assert.StartsWith("Nightly report\n\n", chunks[0].PlainText, StringComparison.Ordinal);
        Assert.EndsWith("\n\nhttps://example.com/report/7", chunks[^1].PlainText, StringComparison.Ordinal);
        Assert.All(chunks.Skip(1), c => Assert.DoesNotContain("Nightly report", c.PlainText, StringComparison.Ordinal));
        Assert.All(chunks.SkipLast(1), c => Assert.DoesNotContain("report/7", c.PlainText, StringComparison.Ordinal));
        var boldTitle = platform switch { Telegram => "<b>Nightly report</b>", Discord => "**Nightly report**", _ => "*Nightly report*" };
        Assert.StartsWith(boldTitle + "\n\n", chunks[0].Text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void Plain_format_is_split_by_lines_and_words(string platform)
    {
        var lines = Enumerable.Range(0, 300).Select(i => $"*{Word((2 * i) + 1)}* <{Word((2 * i) + 2)}> & more text here");

        var chunks = Render(platform, new Notification(string.Join('\n', lines), Format: MessageFormat.Plain), 500);

        Assert.True(chunks.Count > 1);
        Assert.Equal(Enumerable.Range(1, 600), NumberedWords(chunks));
        Assert.All(chunks, c => Assert.False(char.IsWhiteSpace(c.PlainText[0]) || char.IsWhiteSpace(c.PlainText[^1])));
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void Markdown_with_nothing_to_render_is_still_sent(string platform)
    {
        var chunk = Single(platform, "[ref]: https://example.com");

        Assert.Equal("[ref]: https://example.com", chunk.PlainText);
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void A_limit_too_small_for_markup_is_rejected(string platform)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Render(platform, new Notification("hi"), 10));
    }

    private static int Count(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Every kind of block in turn, with numbered words as the text, until the message is long enough.</summary>
    private static (string Markdown, int Words) MixedMessage(int minimumLength)
    {
        var builder = new StringBuilder();
        var n = 0;
        string W() => Word(++n);
        string Ws(int count) => string.Join(' ', Enumerable.Range(0, count).Select(_ => W()));

        for (var round = 0; builder.Length < minimumLength; round++)
        {
            builder.Append($"## {Ws(3)}\n\n");
            builder.Append($"{Ws(20)} **{Ws(5)}** *{Ws(3)}* `{W()}` [{Ws(2)}](https://example.com/{round}) ~~{W()}~~ {Ws(10)}\n\n");
            builder.Append($"- {Ws(6)}\n- {Ws(4)}\n  - {Ws(3)}\n1. {Ws(5)}\n\n");
            builder.Append($"> {Ws(12)}\n> {Ws(8)}\n\n");
            builder.Append($"```\n{string.Join('\n', Enumerable.Range(0, 8).Select(_ => $"call({W()}, {W()});"))}\n```\n\n");
            builder.Append($"| {W()} | {W()} |\n|---|---|\n| {W()} | {W()} |\n| {W()} | {W()} |\n\n");
            builder.Append("---\n\n");
            if (round % 3 == 2)
            {
                // A paragraph bigger than any chunk, to force cutting inside a block.
                builder.Append($"{Ws(500)}\n\n");
            }
        }

        return (builder.ToString(), n);
    }
}
