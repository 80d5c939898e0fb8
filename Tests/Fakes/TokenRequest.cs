using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace Dovecote.Tests.Fakes;

/// <summary>A token endpoint's form and the client's credentials, sent in the form or as HTTP Basic (RFC 6749 §2.3.1).</summary>
internal sealed record TokenRequest(Dictionary<string, StringValues> Form, string? ClientId, string? ClientSecret)
{
    public string? Field(string name) => Form.TryGetValue(name, out var value) ? value.ToString() : null;

    public static TokenRequest Of(string body, HttpContext context)
    {
        var form = QueryHelpers.ParseQuery(body);
        string? Field(string name) => form.TryGetValue(name, out var value) ? value.ToString() : null;
        var basic = context.Request.Headers.Authorization.ToString();
        if (!basic.StartsWith("Basic ", StringComparison.Ordinal)) return new(form, Field("client_id"), Field("client_secret"));
        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(basic[6..])).Split(':', 2);
        return new(form, Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair[1]));
    }
}
