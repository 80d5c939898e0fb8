using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Bench.Shared;

/// <summary>
/// An OAuth access token the way a public client and a person get one, over HTTP without a browser: DCR, consent page,
/// tenant password, code, token. Compiled into both bench programs.
/// </summary>
internal static partial class OAuthToken
{
    public static async Task<string> GetAsync(string baseUrl, string tenant, string password)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = new Uri(baseUrl),
        };
        const string redirect = "http://127.0.0.1:9/callback";
        using var registered = await http.PostAsync("/register", new StringContent(
            JsonSerializer.Serialize(new { client_name = "dovecote-bench", redirect_uris = new[] { redirect }, token_endpoint_auth_method = "none" }),
            Encoding.UTF8,
            "application/json"));
        var clientId = JsonDocument.Parse(await registered.EnsureSuccessStatusCode().Content.ReadAsStringAsync())
            .RootElement.GetProperty("client_id").GetString()!;

        var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var page = await http.GetStringAsync(QueryHelpers.AddQueryString("/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirect,
            ["scope"] = "dovecote:notify",
            ["state"] = "bench",
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        }));
        var form = HiddenInput().Matches(page).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
        form["tenant"] = tenant;
        form["password"] = password;
        form["decision"] = "allow";
        using var consented = await http.PostAsync("/authorize", new FormUrlEncodedContent(form));
        var code = QueryHelpers.ParseQuery(consented.Headers.Location?.Query)["code"].ToString();
        if (code.Length == 0) throw new InvalidOperationException($"consent gave no code: {(int)consented.StatusCode} {consented.Headers.Location}");

        using var tokens = await http.PostAsync("/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = clientId,
            ["code"] = code,
            ["code_verifier"] = verifier,
            ["redirect_uri"] = redirect,
        }));
        return JsonDocument.Parse(await tokens.EnsureSuccessStatusCode().Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenInput();
}
