using System.Net;
using System.Text.Json;

namespace Dovecote.Tests.OAuth;

/// <summary>An authorization code obtained the way a public client does (register, consent page), and its redemption.</summary>
public static class AuthorizationCodes
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed record IssuedCode(string ClientId, string Redirect, string Code, Pkce Pkce)
    {
        public Dictionary<string, string> Redemption() => new()
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = ClientId,
            ["code"] = Code,
            ["code_verifier"] = Pkce.Verifier,
            ["redirect_uri"] = Redirect,
        };
    }

    /// <summary>Registers a public client at <paramref name="baseUrl"/> and signs in as <paramref name="tenant"/> on its consent page.</summary>
    public static async Task<IssuedCode> IssueAsync(string baseUrl, string tenant, string password)
    {
        var redirect = $"http://127.0.0.1:{FreePorts.Next()}/callback";
        using var http = new HttpClient();
        using var registered = await http.PostAsync($"{baseUrl}/register", new StringContent(
            JsonSerializer.Serialize(new { client_name = "pods", redirect_uris = new[] { redirect }, token_endpoint_auth_method = "none" }),
            System.Text.Encoding.UTF8, "application/json"), Ct);
        var clientId = JsonDocument.Parse(await registered.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("client_id").GetString()!;
        var pkce = Pkce.Create();
        var authorize = new Uri(Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString($"{baseUrl}/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirect,
            ["scope"] = "dovecote:notify",
            ["state"] = "pods",
            ["code_challenge"] = pkce.Challenge,
            ["code_challenge_method"] = "S256",
        }));
        using var browser = new ConsentDriver(new Uri(baseUrl));
        var result = await browser.AuthorizeAsync(authorize, tenant, password, Ct);
        return new IssuedCode(clientId, redirect, result.Code!, pkce);
    }

    public static async Task<(HttpStatusCode Status, JsonElement Json)> PostTokenAsync(string baseUrl, Dictionary<string, string> form)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync($"{baseUrl}/token", new FormUrlEncodedContent(form), Ct);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone());
    }

    /// <summary>Redeems one code through every base URL at once: exactly one must get tokens, the others invalid_grant.</summary>
    public static async Task AssertRedeemedExactlyOnceAsync(IssuedCode code, params string[] baseUrls)
    {
        var answers = await Task.WhenAll(baseUrls.Select(url => PostTokenAsync(url, code.Redemption())));
        Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), loser =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, loser.Status);
            Assert.Equal("invalid_grant", loser.Json.GetProperty("error").GetString());
        });
    }
}
