using System.Globalization;
using System.Net.Http.Headers;

namespace Dovecote.Grains.Channels.Delivery;

/// <summary>
/// The one place where a destination's "wait this long" is read: <c>Retry-After</c>, Discord's
/// <c>X-RateLimit-Reset-After</c>, Telegram's <c>parameters.retry_after</c> and Discord's <c>retry_after</c>.
/// These values come from tenant-chosen URLs, so anything may arrive: garbage (text, NaN, a negative
/// number) is no value and the caller falls back to its default backoff; a huge value is cut to
/// <see cref="Ceiling"/>, so no TimeSpan or date arithmetic downstream can overflow.
/// </summary>
public static class RetryAfter
{
    /// <summary>The hard ceiling: the largest <see cref="DeliveryOptions.MaxPause"/> an operator may set.
    /// The grain then clamps to the configured MaxPause (1 h by default).</summary>
    public static readonly TimeSpan Ceiling = TimeSpan.FromDays(1);

    /// <summary>The <c>Retry-After</c> header of <paramref name="response"/> (RFC 9110 §10.2.3), or null.</summary>
    public static TimeSpan? FromRetryAfterHeader(HttpResponseMessage response, TimeProvider time) =>
        ParseRetryAfter(RawHeader(response, "Retry-After"), time.GetUtcNow());

    /// <summary>A header whose value is seconds, possibly fractional (Discord's <c>X-RateLimit-Reset-After: 1.5</c>), or null.</summary>
    public static TimeSpan? FromSecondsHeader(HttpResponseMessage response, string name) =>
        ParseSeconds(RawHeader(response, name));

    /// <summary>RFC 9110 <c>Retry-After</c>: delta-seconds or an HTTP-date (any of the three formats
    /// recipients must accept). A date in the past means "now". Fractional seconds are tolerated.</summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        if (char.IsAsciiDigit(text[0])) return ParseSeconds(text);
        // Only a date is left; the BCL's header parser knows IMF-fixdate, RFC 850 and asctime.
        if (!RetryConditionHeaderValue.TryParse(text, out var parsed) || parsed.Date is not { } date) return null;
        var wait = date - now;
        return wait <= TimeSpan.Zero ? TimeSpan.Zero : wait > Ceiling ? Ceiling : wait;
    }

    /// <summary>Plain decimal seconds ("30", "1.25"). No sign, exponent, NaN or Infinity: those are garbage.</summary>
    public static TimeSpan? ParseSeconds(string? value)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text) || !IsPlainDecimal(text)) return null;
        // A long run of digits overflows to infinity, which is simply huge.
        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            ? FromSeconds(double.IsInfinity(seconds) ? double.MaxValue : seconds)
            : null;
    }

    /// <summary>A JSON number's raw text (its syntax already checked by the JSON reader), e.g. 64.57 or 1e300.</summary>
    public static TimeSpan? ParseJsonNumber(string? raw)
    {
        if (string.IsNullOrEmpty(raw) || raw[0] == '-') return null;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)) return null;
        // 1e400 is valid JSON that overflows a double: huge, not garbage.
        return FromSeconds(double.IsPositiveInfinity(seconds) ? double.MaxValue : seconds);
    }

    /// <summary>Seconds to a wait: NaN, infinities and negatives are no value; beyond the ceiling is the ceiling.</summary>
    public static TimeSpan? FromSeconds(double seconds) =>
        !double.IsFinite(seconds) || seconds < 0 ? null
        : seconds >= Ceiling.TotalSeconds ? Ceiling
        : TimeSpan.FromSeconds(seconds);

    private static bool IsPlainDecimal(string text)
    {
        var dots = 0;
        foreach (var c in text)
        {
            if (c == '.' && ++dots == 1) continue;
            if (!char.IsAsciiDigit(c)) return false;
        }
        return char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[^1]);
    }

    // Raw, because the typed Headers.RetryAfter silently drops what it cannot parse (and caps delta at int).
    private static string? RawHeader(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
