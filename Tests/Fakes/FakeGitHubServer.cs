using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace Dovecote.Tests.Fakes;

/// <summary>A GitHub user of the fake: the numeric id is what stays when the login is renamed.</summary>
public sealed record FakeGitHubUser(long Id, string Login, string? Name, string? Email, IReadOnlyList<string> Orgs);

/// <summary>
/// Fake GitHub for an OAuth app, web and API on one origin: <c>GET /login/oauth/authorize</c> (the person named by
/// <see cref="SignInAs"/> approves at once and is sent back with code and state), <c>POST /login/oauth/access_token</c>
/// (JSON with Accept: application/json, form-encoded otherwise; errors are HTTP 200 with an "error" field, as GitHub does),
/// <c>GET /user</c> and <c>GET /user/orgs</c> (Bearer or "token" authorization, a User-Agent required, 401 "Bad credentials").
/// </summary>
public sealed class FakeGitHubServer(string clientId, string clientSecret) : FakePlatformServer
{
    private readonly ConcurrentDictionary<string, FakeGitHubUser> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (FakeGitHubUser User, string RedirectUri, string Scope)> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (FakeGitHubUser User, string Scope)> _tokens = new(StringComparer.Ordinal);
    private volatile FakeGitHubUser? _signedIn;

    public string ClientId { get; } = clientId;

    protected override ScriptedResponse DownResponse => new(503, """{"message":"Service Unavailable"}""");

    public FakeGitHubUser AddUser(long id, string login, string? name = null, string? email = null, params string[] orgs)
    {
        var user = new FakeGitHubUser(id, login, name, email, orgs);
        _users[login] = user;
        return user;
    }

    /// <summary>The person signed in at GitHub in the browser: the one who approves the next authorization.</summary>
    public void SignInAs(string login) => _signedIn = _users[login];

    protected override void MapRoutes(IEndpointRouteBuilder routes)
    {
        MapPlatform(routes, "/login/oauth/authorize", ["GET"], Authorize);
        MapPlatform(routes, "/login/oauth/access_token", ["POST"], AccessToken);
        MapPlatform(routes, "/user", ["GET"], request => WithUser(request, (user, _) => Json(200, UserJson(user))));
        MapPlatform(routes, "/user/orgs", ["GET"], request => WithUser(request, (user, scope) => scope.Split(',', ' ').Contains("read:org")
            ? Json(200, new JsonArray([.. user.Orgs.Select((org, n) => (JsonNode)new JsonObject { ["login"] = org, ["id"] = 9000 + n })]).ToJsonString())
            // Without read:org GitHub lists only the organisations where membership is public; the fake has none public.
            : Json(200, "[]")));
        MapUnknown(routes, _ => Json(404, """{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"""));
    }

    private ScriptedResponse Authorize(PlatformRequest request)
    {
        var redirect = request.Query("redirect_uri");
        if (request.Query("client_id") != ClientId || redirect is null)
            return new ScriptedResponse(404, "<h1>404</h1>", "text/html");
        if (_signedIn is not { } user)
            return new ScriptedResponse(200, "<h1>Sign in to GitHub</h1>", "text/html");
        var code = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
        _codes[code] = (user, redirect, request.Query("scope") ?? "");
        var location = QueryHelpers.AddQueryString(redirect, new Dictionary<string, string?> { ["code"] = code, ["state"] = request.Query("state") });
        return new ScriptedResponse(302, "", "", HeaderMap(("Location", location)));
    }

    private ScriptedResponse AccessToken(PlatformRequest request)
    {
        var form = QueryHelpers.ParseQuery(request.Body);
        string? Field(string name) => form.TryGetValue(name, out var value) ? value.ToString() : null;
        var json = request.Context.Request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase);
        if (Field("client_id") != ClientId || Field("client_secret") != clientSecret)
            return TokenAnswer(json, new() { ["error"] = "incorrect_client_credentials", ["error_description"] = "The client_id and/or client_secret passed are incorrect." });
        // A code is good once, for the redirect_uri it was issued to.
        if (Field("code") is not { } code || !_codes.TryRemove(code, out var issued) || (Field("redirect_uri") is { } uri && uri != issued.RedirectUri))
            return TokenAnswer(json, new() { ["error"] = "bad_verification_code", ["error_description"] = "The code passed is incorrect or expired." });
        var token = "gho_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18));
        _tokens[token] = (issued.User, issued.Scope);
        return TokenAnswer(json, new() { ["access_token"] = token, ["token_type"] = "bearer", ["scope"] = issued.Scope.Replace(' ', ',') });
    }

    private static ScriptedResponse TokenAnswer(bool json, Dictionary<string, string> fields) => json
        ? Json(200, JsonSerializer.Serialize(fields))
        : new ScriptedResponse(200, string.Join('&', fields.Select(f => $"{f.Key}={Uri.EscapeDataString(f.Value)}")), "application/x-www-form-urlencoded");

    private ScriptedResponse WithUser(PlatformRequest request, Func<FakeGitHubUser, string, ScriptedResponse> answer)
    {
        if (request.Context.Request.Headers.UserAgent.Count == 0)
            return Json(403, """{"message":"Request forbidden by administrative rules. Please make sure your request has a User-Agent header."}""");
        var authorization = request.Context.Request.Headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..]
            : authorization.StartsWith("token ", StringComparison.OrdinalIgnoreCase) ? authorization[6..] : null;
        return token is not null && _tokens.TryGetValue(token, out var holder)
            ? answer(holder.User, holder.Scope)
            : Json(401, """{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}""");
    }

    private static string UserJson(FakeGitHubUser user) => new JsonObject
    {
        ["login"] = user.Login,
        ["id"] = user.Id,
        ["node_id"] = $"U_{user.Id}",
        ["avatar_url"] = $"https://avatars.githubusercontent.com/u/{user.Id}?v=4",
        ["type"] = "User",
        ["site_admin"] = false,
        ["name"] = user.Name,
        ["email"] = user.Email,
    }.ToJsonString();

    private static ScriptedResponse Json(int status, string body) => new(status, body, "application/json; charset=utf-8");
}
