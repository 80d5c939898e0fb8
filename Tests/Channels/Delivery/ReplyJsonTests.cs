using Dovecote.Grains.Channels.Delivery;

namespace Dovecote.Tests.Channels.Delivery;

/// <summary>Destination answers are read from a bounded, possibly cut or hostile prefix; reading never throws.</summary>
public sealed class ReplyJsonTests
{
    [Fact]
    public void Top_level_and_nested_scalars_are_read()
    {
        var reply = ReplyJson.Read("""{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5,"migrate_to_chat_id":-1001234567890123}}""");

        Assert.True(reply.IsObject);
        Assert.False(reply.IsTrue("ok"));
        Assert.Equal(429, reply.Int64("error_code"));
        Assert.Equal("Too Many Requests: retry after 5", reply.String("description"));
        Assert.Equal(TimeSpan.FromSeconds(5), reply.Seconds("parameters.retry_after"));
        Assert.Equal(-1001234567890123, reply.Int64("parameters.migrate_to_chat_id"));
    }

    [Fact]
    public void A_success_cut_at_the_read_bound_still_reads_as_a_success()
    {
        var text = string.Concat(Enumerable.Repeat("\\u041f\\u0440\\u0438", 2_000)); // escaped Cyrillic: a 4096-char message is > 16 KiB
        var body = $$$"""{"ok":true,"result":{"message_id":4711,"chat":{"id":42},"text":"{{{text}}}","entities":[{"type":"bold","offset":0,"length":3}]}}""";
        var cut = body[..DeliveryHttp.MaxBodyBytes];

        var reply = ReplyJson.Read(cut);

        Assert.True(reply.IsTrue("ok"));
        Assert.Equal(4711, reply.Int64("result.message_id"));
    }

    [Fact]
    public void A_number_at_the_cut_is_not_read_half()
    {
        var reply = ReplyJson.Read("""{"ok":false,"parameters":{"retry_after":12""");
        Assert.Null(reply.Seconds("parameters.retry_after"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("<html><body>502 Bad Gateway</body></html>")]
    [InlineData("ok")]
    [InlineData("null")]
    [InlineData("42")]
    [InlineData("\"ok\"")]
    [InlineData("""[{"ok":true,"result":{"message_id":1}}]""")]
    [InlineData("\uFFFD\uFFFD\uFFFD")]
    public void Anything_but_an_object_has_no_members(string body)
    {
        var reply = ReplyJson.Read(body);

        Assert.False(reply.IsObject);
        Assert.False(reply.IsTrue("ok"));
        Assert.Null(reply.Int64("result.message_id"));
    }

    [Fact]
    public void Deep_nesting_stops_the_walk_and_keeps_what_came_before()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);
        var reply = ReplyJson.Read($$$"""{"ok":true,"result":{"message_id":7},"junk":{{{deep}}}}""");

        Assert.True(reply.IsTrue("ok"));
        Assert.Equal(7, reply.Int64("result.message_id"));
    }

    [Fact]
    public void Deep_nesting_of_objects_is_not_mistaken_for_members()
    {
        var deep = string.Concat(Enumerable.Repeat("""{"ok":""", 1_000)) + "true" + new string('}', 1_000);
        var reply = ReplyJson.Read(deep);

        Assert.False(reply.IsTrue("ok"));
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("123456789012345678901234567890")]
    [InlineData("2.5")]
    [InlineData("-1e400")]
    public void Numbers_that_are_no_long_are_no_id(string number)
    {
        var reply = ReplyJson.Read($$$"""{"ok":true,"result":{"message_id":{{{number}}}},"code":{{{number}}}}""");

        Assert.True(reply.IsTrue("ok"));
        Assert.Null(reply.Int64("result.message_id"));
        Assert.Null(reply.Int64("code"));
    }

    [Fact]
    public void Huge_retry_after_is_the_ceiling_and_negative_is_none()
    {
        Assert.Equal(RetryAfter.Ceiling, ReplyJson.Read("""{"retry_after":1e300}""").Seconds("retry_after"));
        Assert.Equal(RetryAfter.Ceiling, ReplyJson.Read("""{"retry_after":1e400}""").Seconds("retry_after"));
        Assert.Null(ReplyJson.Read("""{"retry_after":-5}""").Seconds("retry_after"));
        Assert.Null(ReplyJson.Read("""{"retry_after":"5"}""").Seconds("retry_after"));
        Assert.Null(ReplyJson.Read("""{"retry_after":"NaN"}""").Seconds("retry_after"));
        Assert.Null(ReplyJson.Read("""{"retry_after":null}""").Seconds("retry_after"));
    }

    [Fact]
    public void An_escaped_lone_surrogate_is_no_string_and_the_rest_is_still_read()
    {
        var reply = ReplyJson.Read("""{"description":"\ud800","ok":true,"parameters":{"retry_after":3}}""");

        Assert.Null(reply.String("description"));
        Assert.True(reply.IsTrue("ok"));
        Assert.Equal(TimeSpan.FromSeconds(3), reply.Seconds("parameters.retry_after"));
    }

    [Fact]
    public void Garbage_after_the_good_part_keeps_the_good_part()
    {
        var reply = ReplyJson.Read("""{"ok":true,"result":{"message_id":9}} trailing <garbage>""");

        Assert.True(reply.IsTrue("ok"));
        Assert.Equal(9, reply.Int64("result.message_id"));
    }

    [Fact]
    public void Values_of_the_wrong_type_are_no_value()
    {
        var reply = ReplyJson.Read("""{"ok":"true","description":42,"result":{"message_id":"12"},"parameters":[1,2]}""");

        Assert.False(reply.IsTrue("ok"));
        Assert.Null(reply.String("description"));
        Assert.Null(reply.Int64("result.message_id"));
        Assert.Null(reply.Seconds("parameters.retry_after"));
    }

    [Fact]
    public void Scalars_in_arrays_and_deeper_objects_are_not_members()
    {
        var reply = ReplyJson.Read("""{"list":[{"ok":true}],"a":{"b":{"ok":true}},"ok":false}""");

        Assert.False(reply.IsTrue("ok"));
        Assert.False(reply.IsTrue("a.ok"));
        Assert.False(reply.IsTrue("list.ok"));
    }
}
