using System.Net;
using System.Text;
using ModelContextProtocol.Client;

namespace Dovecote.Tests.Conformance;

/// <summary>
/// The official MCP conformance suite (@modelcontextprotocol/conformance, `server` mode) against the test-only
/// /conformance/mcp: the production MCP server and middleware with the suite's fixtures (ConformanceFixtures) as primitives.
/// Scenarios a stateless server cannot pass are listed, with reasons, in expected-failures.yml.
/// </summary>
public sealed class ConformanceSuiteTests(ConformanceServerFixture server) : IClassFixture<ConformanceServerFixture>
{
    private static readonly TimeSpan SuiteTimeout = TimeSpan.FromSeconds(150);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_conformance_suite_passes_except_for_the_expected_failures()
    {
        var baseline = Path.Combine(NodeTooling.RepoRoot, "Tests", "Conformance", "expected-failures.yml");

        var run = await NodeTooling.RunAsync(
            [NodeTooling.ConformanceCli, "server", "--url", server.ConformanceUrl, "--suite", "all", "--expected-failures", baseline],
            SuiteTimeout, cancellationToken: Ct);

        TestContext.Current.TestOutputHelper?.WriteLine(run.Describe());
        Assert.True(run.ExitCode == 0, $"The MCP conformance suite failed against {server.ConformanceUrl}: {run.Describe()}");
        Assert.Contains("Baseline check passed", run.Stdout); // the suite ran and compared against the baseline
    }

    [Fact]
    public async Task The_production_endpoint_keeps_only_dovecotes_tools_and_its_credentials_beside_the_conformance_endpoint()
    {
        using (var http = new HttpClient())
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"{server.BaseUrl}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.Accept.ParseAdd("application/json, text/event-stream");
            using var response = await http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri($"{server.BaseUrl}/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {ConformanceServerFixture.ApiKey}" },
        }), cancellationToken: Ct);

        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        Assert.Contains(tools, t => t.Name == "send_notification");
        Assert.DoesNotContain(tools, t => t.Name.StartsWith("test_", StringComparison.Ordinal) || t.Name == ConformanceTools.JsonSchema2020ToolName);
        Assert.Equal("dovecote", client.ServerInfo?.Name);
        Assert.Null(client.ServerCapabilities.Prompts);
        Assert.Null(client.ServerCapabilities.Resources);
    }

    [Fact]
    public async Task The_conformance_endpoint_serves_the_fixtures_without_credentials()
    {
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.ConformanceUrl),
            TransportMode = HttpTransportMode.StreamableHttp,
        }), cancellationToken: Ct);

        var tools = await client.ListToolsAsync(cancellationToken: Ct);

        Assert.Equal("dovecote-conformance", client.ServerInfo?.Name);
        Assert.Contains(tools, t => t.Name == "test_simple_text");
        Assert.DoesNotContain(tools, t => t.Name == "send_notification");
    }
}
