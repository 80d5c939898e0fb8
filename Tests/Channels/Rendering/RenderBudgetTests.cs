using System.Text;
using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Interfaces.Channels;
using static Dovecote.Tests.Channels.Rendering.RenderTestSupport;

namespace Dovecote.Tests.Channels.Rendering;

/// <summary>Hostile Markdown: input that cannot be rendered, or that would render to far more than was sent.</summary>
public sealed class RenderBudgetTests
{
    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void Markdown_nested_past_the_parser_limit_is_refused_with_a_reason(string platform)
    {
        var deep = string.Concat(Enumerable.Repeat("> ", 128)) + "text";

        var refused = Assert.Throws<NotificationRenderException>(() => Render(platform, new Notification(deep)));

        Assert.Contains("too deeply", refused.Message);
        Assert.Contains("plain", refused.Message);
        // The same text sent as plain is not parsed, so it goes out as written (escaped as the platform needs).
        Assert.EndsWith("> text", Assert.Single(Render(platform, new Notification(deep, Format: MessageFormat.Plain))).PlainText.Replace("&gt;", ">"));
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void A_table_with_one_huge_cell_over_thousands_of_rows_does_not_multiply_the_message(string platform)
    {
        var (markdown, rows) = AmplifyingTable();

        var chunks = Render(platform, new Notification(markdown));

        // Padded, this was ~25 million characters in 8,000 Telegram messages.
        var plain = chunks.Sum(c => c.PlainText.Length);
        Assert.InRange(plain, markdown.Length / 2, RenderLimits.DefaultMaxExpansion * markdown.Length);
        Assert.InRange(chunks.Count, 1, RenderLimits.DefaultMaxChunks);
        Assert.Equal(rows, chunks.Sum(c => c.PlainText.Split('\n').Count(line => line == "x | y")));
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void A_small_table_keeps_its_padded_columns(string platform)
    {
        var chunk = Single(platform, "| name | n |\n|---|--:|\n| a | 1 |\n| longer | 22 |");

        Assert.Contains("name   |  n", chunk.PlainText);
        Assert.Contains("longer | 22", chunk.PlainText);
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void Markdown_past_the_expansion_limit_is_sent_as_written(string platform)
    {
        var markdown = "| a | b |\n|---|---|\n| " + new string('w', 40) + " | 1 |\n" + string.Concat(Enumerable.Repeat("| x | 2 |\n", 20));

        Assert.StartsWith("a    ", Render(platform, new Notification(markdown), maxLength: 100, limits: RenderLimits.Unbounded)[0].PlainText);

        var chunks = Render(platform, new Notification(markdown), maxLength: 100, limits: new RenderLimits(MaxExpansion: 1));

        Assert.StartsWith("| a | b |\n|---|---|\n| www", chunks[0].PlainText);
        Assert.Equal(20, chunks.Sum(c => c.PlainText.Split('\n').Count(line => line == "| x | 2 |")));
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void A_message_needing_more_chunks_than_allowed_is_refused_naming_the_limit(string platform)
    {
        var words = string.Join(' ', Enumerable.Range(1, 400).Select(i => $"w{i:D5}"));

        var refused = Assert.Throws<NotificationRenderException>(() =>
            Render(platform, new Notification(words), maxLength: 1000, limits: new RenderLimits(MaxChunks: 2)));

        Assert.Contains("at most 2", refused.Message);
        Assert.Equal(3, Render(platform, new Notification(words), maxLength: 1000, limits: new RenderLimits(MaxChunks: 3)).Count);
    }

    [Theory]
    [MemberData(nameof(Platforms), MemberType = typeof(RenderTestSupport))]
    public void The_longest_message_of_characters_the_platform_escapes_fits_the_default_limits(string platform)
    {
        var chunks = Render(platform, new Notification(new string('&', Notification.MaxMessageLength)));

        Assert.Equal(Notification.MaxMessageLength, chunks.Sum(c => c.PlainText.Replace("&amp;", "&").Length));
    }

    /// <summary>One 16,000-character header cell, then short rows up to 32,000 characters: the reproduced attack.</summary>
    private static (string Markdown, int Rows) AmplifyingTable()
    {
        var table = new StringBuilder("| " + new string('h', 16_000) + " | b |\n|---|---|\n");
        var rows = 0;
        while (table.Length < Notification.MaxMessageLength - 10)
        {
            table.Append("| x | y |\n");
            rows++;
        }
        return (table.ToString(), rows);
    }
}
