using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dovecote.Tests.Fakes;

/// <summary>Plain-HttpClient helpers shared by the fake checks below.</summary>
internal static class FakeHttp
{
    public static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Task<HttpResponseMessage> PostJsonAsync(string url, string json) =>
        Client.PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    public static Task<HttpResponseMessage> PostJsonAsync(string url, object payload) =>
        PostJsonAsync(url, JsonSerializer.Serialize(payload));

    public static Task<string> BodyAsync(HttpResponseMessage response) => response.Content.ReadAsStringAsync(Ct);

    public static async Task<JsonNode> JsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await BodyAsync(response)) ?? throw new InvalidOperationException("null JSON");

    public static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : throw new Xunit.Sdk.XunitException($"missing header {name}");

    /// <summary>Asserts status and a JSON body equal to <paramref name="expectedJson"/> (structure, not spacing).</summary>
    public static async Task AssertJsonAsync(HttpResponseMessage response, int status, string expectedJson)
    {
        var body = await BodyAsync(response);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        if (!JsonNode.DeepEquals(JsonNode.Parse(expectedJson), JsonNode.Parse(body)))
        {
            Assert.Equal(expectedJson, body);
        }
    }

    /// <summary>Asserts status and Slack's plain-text body.</summary>
    public static async Task AssertTextAsync(HttpResponseMessage response, int status, string expected)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(expected, await BodyAsync(response));
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }
}
