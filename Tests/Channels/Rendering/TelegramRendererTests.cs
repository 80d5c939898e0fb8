using Dovecote.Grains.Channels.Rendering;
using Dovecote.Grains.Channels.Telegram;
using Dovecote.Grains.Interfaces.Channels;
using static Dovecote.Tests.Channels.Rendering.RenderTestSupport;

namespace Dovecote.Tests.Channels.Rendering;

public sealed class TelegramRendererTests
{
    [Fact]
    public void Inline_formatting_becomes_html_tags()
    {
        var chunk = Single(Telegram, "Hello **bold** *it* _also_ ~~gone~~ `x<y` ~tilde~");

        Assert.Equal("Hello <b>bold</b> <i>it</i> <i>also</i> <s>gone</s> <code>x&lt;y</code> ~tilde~", chunk.Text);
        Assert.Equal("Hello bold it also gone x<y ~tilde~", chunk.PlainText);
    }

    [Fact]
    public void Text_and_raw_html_are_escaped_never_passed_through()
    {
        var chunk = Single(Telegram, "<script>alert('x')</script> a & b < c\n\nsee <b>this</b> & &amp; &copy;");

        Assert.Equal(
            "&lt;script&gt;alert('x')&lt;/script&gt; a &amp; b &lt; c\n\nsee &lt;b&gt;this&lt;/b&gt; &amp; &amp; ©",
            chunk.Text);
        Assert.Equal("<script>alert('x')</script> a & b < c\n\nsee <b>this</b> & & ©", chunk.PlainText);
    }

    [Fact]
    public void Links_get_escaped_hrefs_and_unsafe_schemes_stay_text()
    {
        var chunk = Single(
            Telegram,
            "[site](https://example.com/?a=1&b=\"2\") [bad](javascript:alert(1)) [rel](/docs) [me](tg://resolve?domain=x) https://bare.example/x_y");

        Assert.Equal(
            "<a href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\">site</a> bad rel <a href=\"tg://resolve?domain=x\">me</a> "
            + "<a href=\"https://bare.example/x_y\">https://bare.example/x_y</a>",
            chunk.Text);
        Assert.DoesNotContain("javascript", chunk.Text, StringComparison.Ordinal);
        Assert.Equal(
            "site (https://example.com/?a=1&b=\"2\") bad rel me (tg://resolve?domain=x) https://bare.example/x_y",
            chunk.PlainText);
    }

    [Fact]
    public void Images_become_links_labelled_with_their_alt_text()
    {
        var chunk = Single(Telegram, "![a *cat*](https://img.example/cat.png)");

        Assert.Equal("<a href=\"https://img.example/cat.png\">a cat</a>", chunk.Text);
        Assert.Equal("a cat (https://img.example/cat.png)", chunk.PlainText);
    }

    [Fact]
    public void Headings_lists_and_quotes()
    {
        var chunk = Single(Telegram, "# Title *here*\n\n- one\n- two\n  1. sub\n  2. sub two\n\n> quoted\n> more\n>\n> > inner");

        Assert.Equal(
            "<b>Title <i>here</i></b>\n\n• one\n• two\n  1. sub\n  2. sub two\n\n<blockquote>quoted\nmore\n\ninner</blockquote>",
            chunk.Text);
        Assert.Equal("Title here\n\n• one\n• two\n  1. sub\n  2. sub two\n\nquoted\nmore\n\ninner", chunk.PlainText);
    }

    [Fact]
    public void Ordered_lists_are_numbered_from_their_start()
    {
        Assert.Equal("1. a\n2. b\n3. c\n\n7. seven\n8. eight", Single(Telegram, "1. a\n1. b\n1. c\n\n\n7) seven\n8) eight").Text);
    }

    [Fact]
    public void Code_blocks_become_pre_with_the_language_class()
    {
        var chunk = Single(Telegram, "```csharp\nvar x = a < b && c;\n```\n\n    indented <code>\n\n```\nno language\n```");

        Assert.Equal(
            "<pre><code class=\"language-csharp\">var x = a &lt; b &amp;&amp; c;</code></pre>\n\n"
            + "<pre>indented &lt;code&gt;</pre>\n\n<pre>no language</pre>",
            chunk.Text);
        Assert.Equal("var x = a < b && c;\n\nindented <code>\n\nno language", chunk.PlainText);
    }

    [Fact]
    public void Tables_become_aligned_preformatted_text()
    {
        var chunk = Single(Telegram, "| Name | Qty |\n|:--|--:|\n| apple | 3 |\n| **kiwi** | 12 |");

        Assert.Equal("<pre>Name  | Qty\n------+----\napple |   3\nkiwi  |  12</pre>", chunk.Text);
        Assert.Equal("Name  | Qty\n------+----\napple |   3\nkiwi  |  12", chunk.PlainText);
    }

    [Fact]
    public void Thematic_break_is_a_line_of_dashes()
    {
        Assert.Equal("a\n\n———\n\nb", Single(Telegram, "a\n\n---\n\nb").Text);
    }

    [Fact]
    public void Title_is_a_bold_first_line_and_url_a_final_link_line()
    {
        var chunk = Assert.Single(TelegramRenderer.Render(new Notification("Body", "Deploy <prod> & co", "https://ci.example.com/run/1?x=1&y=2")));

        Assert.Equal(
            "<b>Deploy &lt;prod&gt; &amp; co</b>\n\nBody\n\n<a href=\"https://ci.example.com/run/1?x=1&amp;y=2\">https://ci.example.com/run/1?x=1&amp;y=2</a>",
            chunk.Text);
        Assert.Equal("Deploy <prod> & co\n\nBody\n\nhttps://ci.example.com/run/1?x=1&y=2", chunk.PlainText);
    }

    [Fact]
    public void Plain_format_is_escaped_and_not_parsed()
    {
        var chunk = Single(Telegram, "*not bold* <b>x</b> & y\n# no heading", MessageFormat.Plain);

        Assert.Equal("*not bold* &lt;b&gt;x&lt;/b&gt; &amp; y\n# no heading", chunk.Text);
        Assert.Equal("*not bold* <b>x</b> & y\n# no heading", chunk.PlainText);
    }

    [Fact]
    public void A_span_cut_across_chunks_is_closed_and_reopened()
    {
        var chunks = Render(Telegram, new Notification("**one two three four five six seven eight nine ten eleven twelve** end"), 64);

        Assert.Equal(
            ["<b>one two three four five six seven eight nine ten eleven</b>", "<b>twelve</b> end"],
            chunks.Select(c => c.Text));
        Assert.Equal(["one two three four five six seven eight nine ten eleven", "twelve end"], chunks.Select(c => c.PlainText));
    }

    [Fact]
    public void A_quote_cut_across_chunks_is_reopened()
    {
        var chunks = Render(Telegram, new Notification("> alpha beta gamma delta epsilon zeta eta theta iota kappa lambda"), 64);

        Assert.Equal(
            ["<blockquote>alpha beta gamma delta epsilon zeta eta</blockquote>", "<blockquote>theta iota kappa lambda</blockquote>"],
            chunks.Select(c => c.Text));
    }

    [Fact]
    public void A_hard_cut_never_splits_an_entity()
    {
        var message = new string('&', 300) + new string('<', 300);
        var chunks = Render(Telegram, new Notification(message), 100);

        Assert.Equal(message, string.Concat(chunks.Select(c => c.PlainText)));
        Assert.All(chunks, c => Assert.DoesNotMatch("&(?!amp;|lt;)", c.Text));
    }

    [Fact]
    public void Code_language_is_sanitised_into_the_class_attribute()
    {
        var chunk = Single(Telegram, "```c#\"<x> extra\nx\n```");

        Assert.Equal("<pre><code class=\"language-c#x\">x</code></pre>", chunk.Text);
    }

    [Fact]
    public void Random_markdown_always_renders_to_valid_telegram_html()
    {
        foreach (var seed in Enumerable.Range(1, 30))
        {
            var corpus = new MarkdownCorpus(seed);
            var markdown = corpus.Document(blocks: 25);
            foreach (var max in new[] { 64, 150, 700, TelegramRenderer.MaxLength })
            {
                var chunks = TelegramRenderer.Render(new Notification(markdown, $"Seed {seed} <&>", "https://example.com/done"), max, RenderLimits.Unbounded);

                Assert.All(chunks, chunk => TelegramHtmlChecker.AssertValid(chunk.Text));
                Assert.All(chunks, chunk => Assert.InRange(chunk.Text.Length, 1, max));
                Assert.Equal(Enumerable.Range(1, corpus.WordCount), NumberedWords(chunks));
            }
        }
    }
}
