using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Dovecote.Tests.Conformance;

/// <summary>
/// Test-only, unauthenticated MCP endpoint for the official conformance suite, which cannot send credentials. Tests
/// map it through the Api's seam (<c>DovecoteApi.Create(args, app => app.MapConformanceEndpoint())</c>); the product
/// never compiles it. It is the production MCP server (same SDK registration, transport options and middleware: Origin
/// check, authentication) with the primitives swapped: requests routed to <see cref="Route"/> get the conformance
/// fixtures instead of Dovecote's tools, while /mcp is untouched.
/// </summary>
/// <remarks>
/// The SDK registers one MCP server per application. In stateless mode it builds a fresh <see cref="McpServerOptions"/>
/// for every HTTP request and passes it to <see cref="HttpServerTransportOptions.ConfigureSessionOptions"/>, so the
/// per-endpoint difference is made there, keyed on endpoint metadata (what routing chose, not a path comparison).
/// The fixtures are never registered in DI, so nothing else can list them.
/// </remarks>
public static class ConformanceEndpoint
{
    public const string Route = "/conformance/mcp";

    /// <summary>Maps <see cref="Route"/> beside the production endpoints.</summary>
    public static WebApplication MapConformanceEndpoint(this WebApplication app)
    {
        var fixtures = new Fixtures(app.Services);
        // The options object is the singleton the SDK's handler reads on every request; the hook is installed before
        // the app starts serving. Whatever Dovecote configures itself still runs for every other endpoint.
        var transport = app.Services.GetRequiredService<IOptions<HttpServerTransportOptions>>().Value;
        if (!transport.Stateless)
            throw new InvalidOperationException("The conformance endpoint relies on stateless MCP (a server per request).");
        var dovecoteHook = transport.ConfigureSessionOptions;
        transport.ConfigureSessionOptions = async (context, options, cancellationToken) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<ConformanceEndpointMarker>() is not null)
                fixtures.ApplyTo(options);
            else if (dovecoteHook is not null)
                await dovecoteHook(context, options, cancellationToken);
        };

        app.MapMcp(Route).WithMetadata(new ConformanceEndpointMarker()); // no RequireAuthorization: the suite has no credentials
        return app;
    }

    private sealed class ConformanceEndpointMarker;

    /// <summary>The fixture primitives, built once and shared (like DI singletons) by every per-request server.</summary>
    private sealed class Fixtures
    {
        private readonly McpServerTool[] _tools;
        private readonly McpServerPrompt[] _prompts;
        private readonly McpServerResource[] _resources;

        public Fixtures(IServiceProvider services)
        {
            _tools = [.. Methods<McpServerToolAttribute>(typeof(ConformanceTools))
                .Select(m => McpServerTool.Create(m, (object?)null, new() { Services = services }))];
            _prompts = [.. Methods<McpServerPromptAttribute>(typeof(ConformancePrompts))
                .Select(m => McpServerPrompt.Create(m, (object?)null, new() { Services = services }))];
            _resources = [.. Methods<McpServerResourceAttribute>(typeof(ConformanceResources))
                .Select(m => McpServerResource.Create(m, (object?)null, new() { Services = services }))];

            // The schema generated from the C# signature has no $schema/$defs; the scenario checks those are passed through.
            _tools.Single(t => t.ProtocolTool.Name == ConformanceTools.JsonSchema2020ToolName).ProtocolTool.InputSchema =
                ConformanceTools.JsonSchema2020InputSchema;
        }

        public void ApplyTo(McpServerOptions options)
        {
            options.ServerInfo = new() { Name = "dovecote-conformance", Version = options.ServerInfo?.Version ?? "1.0.0" };
            options.ToolCollection = [.. _tools];
            options.PromptCollection = [.. _prompts];
            var resources = new McpServerResourceCollection();
            foreach (var resource in _resources) resources.Add(resource);
            options.ResourceCollection = resources;
            // completion-complete asks for test_prompt_with_arguments/arg1; an empty answer is conformant.
            options.Handlers.CompleteHandler = (_, _) =>
                ValueTask.FromResult(new CompleteResult { Completion = new() { Values = [], Total = 0, HasMore = false } });
        }

        private static IEnumerable<MethodInfo> Methods<TAttribute>(Type type) where TAttribute : Attribute =>
            type.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.GetCustomAttribute<TAttribute>() is not null);
    }
}
