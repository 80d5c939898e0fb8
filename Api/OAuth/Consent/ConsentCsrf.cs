using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Dovecote.Api.OAuth.Consent;

/// <summary>
/// Double-submit CSRF protection for every form a person posts (consent, sign-in, sign-out, the console): a random nonce in an HttpOnly cookie, and in the form its HMAC
/// under COOKIE_ENCRYPTION_KEY. A forged cross-site post has neither the cookie (SameSite=Lax) nor the key.
/// </summary>
public sealed class ConsentCsrf(OAuthKeyMaterial keys, PublicUrl publicUrl)
{
    public const string CookieName = "dovecote_csrf";
    public const string FieldName = "csrf_token";

    /// <summary>The form token for this browser, setting the cookie if it has none (so several open tabs all stay valid).</summary>
    public string Issue(HttpContext http)
    {
        var nonce = http.Request.Cookies[CookieName];
        if (nonce is not { Length: 43 })
        {
            nonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
            http.Response.Cookies.Append(CookieName, nonce, new CookieOptions
            {
                HttpOnly = true,
                Secure = publicUrl.IsHttps || http.Request.IsHttps,
                SameSite = SameSiteMode.Lax,
                Path = "/",
                MaxAge = TimeSpan.FromHours(1),
                IsEssential = true,
            });
        }
        return Base64Url.EncodeToString(Mac(nonce));
    }

    public bool IsValid(HttpContext http, string? token)
    {
        var nonce = http.Request.Cookies[CookieName];
        if (string.IsNullOrEmpty(nonce) || string.IsNullOrEmpty(token) || token.Length > 64) return false;
        var expected = Base64Url.EncodeToString(Mac(nonce));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(token));
    }

    private byte[] Mac(string nonce) => HMACSHA256.HashData(keys.Cookie, Encoding.UTF8.GetBytes("dovecote-consent-csrf|" + nonce));
}
