using System.Net;

namespace Dovecote.Api.OAuth.Registration;

/// <summary>Which redirect URIs a client may register: https anywhere, or http on a loopback address (RFC 8252).</summary>
public static class RedirectUris
{
    public const int MaxPerClient = 10;
    /// <summary>Browsers and proxies handle about this much; ten of them keep a client's redirect URIs under 20 KiB.</summary>
    public const int MaxLength = 2048;

    /// <summary>Null when acceptable, else the reason.</summary>
    public static string? Check(string? value)
    {
        if (value is { Length: > MaxLength }) return $"each redirect_uri must be at most {MaxLength} characters (one is {value.Length})";
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)) return $"'{value}' is not an absolute URI";
        if (uri.Fragment.Length > 0) return $"'{value}' must not have a fragment";
        if (uri.UserInfo.Length > 0) return $"'{value}' must not carry user information";
        if (uri.Scheme == Uri.UriSchemeHttps) return null;
        if (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri)) return null;
        return $"'{value}' must use https, or http on a loopback address (127.0.0.1, [::1] or localhost)";
    }

    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback && (uri.Host == "localhost" || IPAddress.TryParse(uri.Host, out _));

    /// <summary>
    /// Loopback URIs are stored without their port: OpenIddict then accepts any port for a native client, which local
    /// clients need because they listen on whatever port is free (RFC 8252 §7.3).
    /// </summary>
    public static string ForStorage(string value)
    {
        var uri = new Uri(value);
        if (uri.Scheme != Uri.UriSchemeHttp || !IsLoopback(uri) || uri.IsDefaultPort) return value;
        return new UriBuilder(uri) { Port = -1 }.Uri.AbsoluteUri;
    }
}
