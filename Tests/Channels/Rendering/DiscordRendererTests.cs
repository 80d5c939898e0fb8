using Dovecote.Grains.Channels.Discord;
using Dovecote.Grains.Interfaces.Channels;
using static Dovecote.Tests.Channels.Rendering.RenderTestSupport;

namespace Dovecote.Tests.Channels.Rendering;

public sealed class DiscordRendererTests
{
    private const string Zwsp = "\u200B";

    [Fact]
    public void The_agents_markdown_is_kept()
    {
        var markdown = "Some **bold**, __under__, *it*, _it too_, ~~s~~, `code` and ``a ` b``; 2 \\* 3.\n"
            + "Line two with [docs](https://example.com/docs) and <https://quiet.example>.";
        var chunk = Single(Discord, markdown);

        Assert.Equal(markdown, chunk.Text);
        Assert.Equal(
            "Some bold, under, it, it too, s, code and a ` b; 2 * 3.\nLine two with docs (https://example.com/docs) and https://quiet.example.",
            chunk.PlainText);
    }

    [Fact]
    public void Blocks_keep_their_markers()
    {
        var markdown = "## Status\n\n* one\n* two\n  1. sub\n\n> quoted\n> more\n\n```python\nprint('hi')\n```\n\n3) three\n4) four";
        var chunk = Single(Discord, markdown);

        Assert.Equal(markdown, chunk.Text);
        Assert.Equal("Status\n\n• one\n• two\n  1. sub\n\nquoted\nmore\n\nprint('hi')\n\n3) three\n4) four", chunk.PlainText);
    }

    [Fact]
    public void Line_endings_are_normalised()
    {
        Assert.Equal("a\nb\n\nc", Single(Discord, "a\r\nb\r\n\r\nc").Text);
    }

    [Fact]
    public void Headings_deeper_than_three_become_bold_lines()
    {
        var chunk = Single(Discord, "# One\n\n### Three\n\n#### Four *x*\n\n###### Six");

        Assert.Equal("# One\n\n### Three\n\n**Four *x***\n\n**Six**", chunk.Text);
        Assert.Equal("One\n\nThree\n\nFour x\n\nSix", chunk.PlainText);
    }

    [Fact]
    public void Tables_become_code_blocks()
    {
        var chunk = Single(Discord, "| Name | Qty |\n|:--|--:|\n| apple | 3 |\n| kiwi | 12 |");

        Assert.Equal("```\nName  | Qty\n------+----\napple |   3\nkiwi  |  12\n```", chunk.Text);
        Assert.Equal("Name  | Qty\n------+----\napple |   3\nkiwi  |  12", chunk.PlainText);
    }

    [Fact]
    public void Everyone_and_here_cannot_ping()
    {
        var chunk = Single(Discord, "@everyone look, @Here too, mail a@b.com\n\n`@everyone` in code");

        Assert.Equal($"@{Zwsp}everyone look, @{Zwsp}Here too, mail a@b.com\n\n`@everyone` in code", chunk.Text);
        Assert.Equal($"@{Zwsp}everyone look, @{Zwsp}Here too, mail a@b.com\n\n@{Zwsp}everyone in code", chunk.PlainText);
    }

    [Fact]
    public void Unsafe_links_are_only_text()
    {
        var chunk = Single(Discord, "[bad](javascript:alert(1)) and [ok](https://example.com/a(b))");

        Assert.Equal("bad and [ok](https://example.com/a%28b%29)", chunk.Text);
    }

    [Fact]
    public void Raw_html_is_shown_as_written()
    {
        Assert.Equal("<script>alert(1)</script> a & b < c", Single(Discord, "<script>alert(1)</script> a & b < c").Text);
    }

    [Fact]
    public void Plain_format_escapes_discord_markdown()
    {
        var chunk = Single(Discord, "*not bold* _x_ `c` # mid\n# heading\n- item\n> quote\n12. twelve\n@everyone", MessageFormat.Plain);

        Assert.Equal(
            $"\\*not bold\\* \\_x\\_ \\`c\\` # mid\n\\# heading\n\\- item\n\\> quote\n12\\. twelve\n@{Zwsp}everyone",
            chunk.Text);
        Assert.Equal($"*not bold* _x_ `c` # mid\n# heading\n- item\n> quote\n12. twelve\n@{Zwsp}everyone", chunk.PlainText);
    }

    [Fact]
    public void A_split_code_block_reopens_with_the_same_fence_and_language()
    {
        var code = string.Join('\n', Enumerable.Range(1, 400).Select(i => $"value_{i} = compute({i})  # step {i}"));
        var chunks = Render(Discord, new Notification($"````python\n{code}\n````"));

        Assert.True(chunks.Count > 1);
        Assert.All(chunks, c =>
        {
            Assert.StartsWith("```python\n", c.Text, StringComparison.Ordinal);
            Assert.EndsWith("\n```", c.Text, StringComparison.Ordinal);
        });
        Assert.Equal(code, string.Join('\n', chunks.Select(c => c.PlainText)));
    }

    [Fact]
    public void Text_cut_mid_paragraph_cannot_start_a_list_in_the_next_chunk()
    {
        // The first line fills the chunk exactly, so the cut falls just before the dash.
        const string first = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda";
        var chunks = Render(Discord, new Notification(first + " - mu nu"), first.Length + 1);

        Assert.Equal([first, "\\- mu nu"], chunks.Select(c => c.Text));
        Assert.Equal([first, "- mu nu"], chunks.Select(c => c.PlainText));
    }

    [Fact]
    public void Default_limit_is_discords_content_limit()
    {
        Assert.Equal(2000, DiscordRenderer.MaxLength);
    }
}
