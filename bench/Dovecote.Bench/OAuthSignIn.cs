using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Bench;

/// <summary>The whole OAuth journey a client and a person make, over HTTP, timed: DCR, consent page, sign-in, code, token.</summary>
public static partial class OAuthSignIn
{
    public const string Password = "bench-password-7c1d";

    public static async Task<(string AccessToken, (double Mean, double Max) Milliseconds)> TimeAsync(string baseUrl, int rounds)
    {
        var times = new List<double>();
        var token = "";
        for (var i = 0; i < rounds; i++)
        {
            var started = Stopwatch.GetTimestamp();
            token = await SignInAsync(baseUrl);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return (token, (times.Average(), times.Max()));
    }

    private static async Task<string> SignInAsync(string baseUrl)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = new Uri(baseUrl),
        };
        const string redirect = "http://127.0.0.1:9/callback";
        using var registered = await http.PostAsync("/register", new StringContent(
            JsonSerializer.Serialize(new { client_name = "bench", redirect_uris = new[] { redirect }, token_endpoint_auth_method = "none" }),
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
        form["tenant"] = "default";
        form["password"] = Password;
        form["decision"] = "allow";
        using var consented = await http.PostAsync("/authorize", new FormUrlEncodedContent(form));
        var code = QueryHelpers.ParseQuery(consented.Headers.Location?.Query)["code"].ToString();

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
