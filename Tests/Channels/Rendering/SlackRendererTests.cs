using Dovecote.Grains.Channels.Slack;
using Dovecote.Grains.Interfaces.Channels;
using static Dovecote.Tests.Channels.Rendering.RenderTestSupport;

namespace Dovecote.Tests.Channels.Rendering;

public sealed class SlackRendererTests
{
    private const string Zwsp = "\u200B";

    [Fact]
    public void Markdown_becomes_mrkdwn()
    {
        var chunk = Single(Slack, "**bold** *it* ~~s~~ `a<b` and ***both***");

        Assert.Equal("*bold* _it_ ~s~ `a&lt;b` and _*both*_", chunk.Text);
        Assert.Equal("bold it s a&lt;b and both", chunk.PlainText);
    }

    [Fact]
    public void Text_is_entity_escaped_in_markup_and_plain_text()
    {
        var chunk = Single(Slack, "a & b < c > d\n\n<script>alert(1)</script>");

        Assert.Equal("a &amp; b &lt; c &gt; d\n\n&lt;script&gt;alert(1)&lt;/script&gt;", chunk.Text);
        Assert.Equal(chunk.Text, chunk.PlainText);
    }

    [Fact]
    public void Links_use_angle_syntax_with_a_cleaned_label()
    {
        var chunk = Single(Slack, "[a|b>c **d**](https://e.com/?a=1&b=2|x) [bad](javascript:alert(1)) https://bare.example/p <mail@example.com>");

        Assert.Equal(
            "<https://e.com/?a=1&amp;b=2%7Cx|abc d> bad <https://bare.example/p> <mailto:mail@example.com|mail@example.com>",
            chunk.Text);
        Assert.Equal(
            "a|b&gt;c d (https://e.com/?a=1&amp;b=2|x) bad https://bare.example/p mail@example.com",
            chunk.PlainText);
    }

    [Fact]
    public void Headings_lists_quotes_and_code()
    {
        var chunk = Single(Slack, "## Status **now**\n\n- one\n- two\n  1. sub\n\n> quoted\n>\n> more\n\n```js\nif (a && b) {}\n```");

        Assert.Equal(
            "*Status now*\n\n• one\n• two\n  1. sub\n\n> quoted\n>\n> more\n\n```\nif (a &amp;&amp; b) {}\n```",
            chunk.Text);
        Assert.Equal("Status now\n\n• one\n• two\n  1. sub\n\nquoted\n\nmore\n\nif (a &amp;&amp; b) {}", chunk.PlainText);
    }

    [Fact]
    public void Tables_become_code_blocks()
    {
        var chunk = Single(Slack, "| a | b |\n|---|:-:|\n| x & y | 1 |");

        Assert.Equal("```\na     | b\n------+--\nx &amp; y | 1\n```", chunk.Text);
    }

    [Fact]
    public void Markers_markdown_left_as_text_cannot_format_in_slack()
    {
        var chunk = Single(Slack, "about ~5 min, \\*not bold\\*, keep snake_case_name");

        Assert.Equal($"about {Zwsp}~5 min, {Zwsp}*not bold{Zwsp}*, keep snake_case_name", chunk.Text);
        Assert.Equal("about ~5 min, *not bold*, keep snake_case_name", chunk.PlainText);
    }

    [Fact]
    public void Plain_format_shows_markers_literally()
    {
        var chunk = Single(Slack, "*not bold* _x_ `c` <b> & snake_case", MessageFormat.Plain);

        Assert.Equal($"{Zwsp}*not bold{Zwsp}* {Zwsp}_x{Zwsp}_ {Zwsp}`c{Zwsp}` &lt;b&gt; &amp; snake{Zwsp}_case", chunk.Text);
        Assert.Equal("*not bold* _x_ `c` &lt;b&gt; &amp; snake_case", chunk.PlainText);
    }

    [Fact]
    public void Title_and_url_lines()
    {
        var chunk = Assert.Single(SlackRenderer.Render(new Notification("Body", "Build <main>", "https://ci.example.com/r?a=1&b=2")));

        Assert.Equal("*Build &lt;main&gt;*\n\nBody\n\n<https://ci.example.com/r?a=1&amp;b=2>", chunk.Text);
        Assert.Equal("Build &lt;main&gt;\n\nBody\n\nhttps://ci.example.com/r?a=1&amp;b=2", chunk.PlainText);
    }

    [Fact]
    public void A_quote_cut_across_chunks_keeps_its_marker_on_every_line()
    {
        var chunks = Render(Slack, new Notification("> alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu"), 64);

        Assert.Equal(["> alpha beta gamma delta epsilon zeta eta theta iota kappa", "> lambda mu nu"], chunks.Select(c => c.Text));
    }
}
