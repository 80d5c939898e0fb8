using Dovecote.Grains.Channels.Delivery;

namespace Dovecote.Tests.Channels.Delivery;

/// <summary>"Wait this long" comes from tenant-chosen URLs: garbage is no value, huge is the ceiling, nothing throws.</summary>
public sealed class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("∞")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("1e300")]
    [InlineData("0x10")]
    [InlineData("5 seconds")]
    [InlineData("soon")]
    [InlineData("1,5")]
    [InlineData("1.2.3")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("Mon, 32 Foo 2026 99:99:99 GMT")]
    public void Garbage_in_a_header_is_no_value(string? value)
    {
        Assert.Null(RetryAfter.ParseRetryAfter(value, Now));
        Assert.Null(RetryAfter.ParseSeconds(value));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("30", 30)]
    [InlineData(" 7 ", 7)]
    [InlineData("1.5", 1.5)]
    [InlineData("64.57", 64.57)]
    public void Delta_seconds_are_read_as_seconds(string value, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfter.ParseRetryAfter(value, Now));
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfter.ParseSeconds(value));
    }

    [Theory]
    [InlineData("86401")]
    [InlineData("99999999999")] // beyond int: the typed header property drops it
    [InlineData("1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000")]
    public void Huge_delta_seconds_are_cut_to_the_ceiling(string value)
    {
        Assert.Equal(RetryAfter.Ceiling, RetryAfter.ParseRetryAfter(value, Now));
        Assert.Equal(RetryAfter.Ceiling, RetryAfter.ParseSeconds(value));
    }

    [Theory]
    [InlineData("Tue, 01 Dec 2026 12:01:30 GMT")] // IMF-fixdate
    [InlineData("Tuesday, 01-Dec-26 12:01:30 GMT")] // obsolete RFC 850
    [InlineData("Tue Dec  1 12:01:30 2026")] // obsolete asctime
    public void An_http_date_is_the_time_until_it_in_every_format_rfc_9110_requires(string value) =>
        Assert.Equal(TimeSpan.FromSeconds(90), RetryAfter.ParseRetryAfter(value, Now));

    [Fact]
    public void An_http_date_in_the_past_means_now() =>
        Assert.Equal(TimeSpan.Zero, RetryAfter.ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", Now));

    [Fact]
    public void An_http_date_far_ahead_is_cut_to_the_ceiling() =>
        Assert.Equal(RetryAfter.Ceiling, RetryAfter.ParseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", Now));

    [Fact]
    public void A_date_is_not_seconds() =>
        Assert.Null(RetryAfter.ParseSeconds("Tue, 01 Dec 2026 12:01:30 GMT"));

    [Theory]
    [InlineData("2", 2)]
    [InlineData("64.57", 64.57)]
    [InlineData("0", 0)]
    [InlineData("2.5e1", 25)]
    public void Json_numbers_are_float_seconds(string raw, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfter.ParseJsonNumber(raw));

    [Theory]
    [InlineData("1e300")]
    [InlineData("1e400")] // valid JSON that overflows a double
    [InlineData("86400.5")]
    public void Huge_json_numbers_are_cut_to_the_ceiling(string raw) =>
        Assert.Equal(RetryAfter.Ceiling, RetryAfter.ParseJsonNumber(raw));

    [Theory]
    [InlineData("-5")]
    [InlineData("-1e400")]
    [InlineData("-0.001")]
    [InlineData("")]
    [InlineData(null)]
    public void Negative_or_missing_json_numbers_are_no_value(string? raw) =>
        Assert.Null(RetryAfter.ParseJsonNumber(raw));

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(-5)]
    [InlineData(-double.Epsilon)]
    public void Non_finite_or_negative_seconds_are_no_value(double seconds) =>
        Assert.Null(RetryAfter.FromSeconds(seconds));

    [Theory]
    [InlineData(1e300)]
    [InlineData(double.MaxValue)]
    [InlineData(86_400)]
    public void Huge_seconds_are_the_ceiling(double seconds) =>
        Assert.Equal(RetryAfter.Ceiling, RetryAfter.FromSeconds(seconds));

    [Fact]
    public void The_ceiling_is_the_largest_pause_an_operator_may_configure()
    {
        // DeliveryOptions.MaxPause is validated to at most one day; the grain clamps to the configured value.
        var range = typeof(DeliveryOptions).GetProperty(nameof(DeliveryOptions.MaxPause))!
            .GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.RangeAttribute), false)
            .Cast<System.ComponentModel.DataAnnotations.RangeAttribute>().Single();
        Assert.Equal(RetryAfter.Ceiling, TimeSpan.Parse((string)range.Maximum, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("1e300")]
    [InlineData("-5")]
    [InlineData("Infinity")]
    [InlineData("later")]
    public void Raw_response_headers_the_typed_property_would_drop_are_read_by_the_same_rules(string value)
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation("Retry-After", value);
        response.Headers.TryAddWithoutValidation("X-RateLimit-Reset-After", value);
        Assert.Null(RetryAfter.FromRetryAfterHeader(response, TimeProvider.System));
        Assert.Null(RetryAfter.FromSecondsHeader(response, "X-RateLimit-Reset-After"));
    }

    [Fact]
    public void A_huge_raw_header_is_the_ceiling()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation("Retry-After", "99999999999");
        Assert.Equal(RetryAfter.Ceiling, RetryAfter.FromRetryAfterHeader(response, TimeProvider.System));
    }
}
