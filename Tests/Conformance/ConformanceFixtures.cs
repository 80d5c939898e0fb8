using System.ComponentModel;
using System.Text;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// The conformance suite still exercises logging/setLevel and notifications/message (2025-06-18 / 2025-11-25),
// which the SDK marks obsolete for the 2026-07-28 revision.
#pragma warning disable MCP9005

namespace Dovecote.Tests.Conformance;

// Fixtures the MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, `server` scenarios) calls by name.
// They are served only at /conformance/mcp, which tests map through the Api's seam (ConformanceEndpoint); /mcp never lists them.
// Every method is static so the primitives are built once and shared by the per-request stateless servers.

/// <summary>Tools named by the conformance scenarios tools-call-*, json-schema-2020-12.</summary>
[McpServerToolType]
public static class ConformanceTools
{
    [McpServerTool(Name = "test_simple_text"), Description("Returns a fixed text response (conformance: tools-call-simple-text).")]
    public static string SimpleText() => "This is a simple text response for testing.";

    [McpServerTool(Name = "test_image_content"), Description("Returns a PNG image (conformance: tools-call-image).")]
    public static CallToolResult ImageContent() => new() { Content = [ImageContentBlock.FromBytes(ConformanceMedia.Png, "image/png")] };

    [McpServerTool(Name = "test_audio_content"), Description("Returns a WAV clip (conformance: tools-call-audio).")]
    public static CallToolResult AudioContent() => new() { Content = [AudioContentBlock.FromBytes(ConformanceMedia.Wav, "audio/wav")] };

    [McpServerTool(Name = "test_embedded_resource"), Description("Returns an embedded text resource (conformance: tools-call-embedded-resource).")]
    public static CallToolResult EmbeddedResource() => new()
    {
        Content =
        [
            new EmbeddedResourceBlock
            {
                Resource = new TextResourceContents
                {
                    Uri = "test://embedded-resource",
                    MimeType = "text/plain",
                    Text = "This is an embedded resource content.",
                },
            },
        ],
    };

    [McpServerTool(Name = "test_multiple_content_types")]
    [Description("Returns text, an image and a resource together (conformance: tools-call-mixed-content).")]
    public static CallToolResult MultipleContentTypes() => new()
    {
        Content =
        [
            new TextContentBlock { Text = "Multiple content types test:" },
            ImageContentBlock.FromBytes(ConformanceMedia.Png, "image/png"),
            new EmbeddedResourceBlock
            {
                Resource = new TextResourceContents
                {
                    Uri = "test://mixed-content-resource",
                    MimeType = "application/json",
                    Text = """{"test":"data","value":123}""",
                },
            },
        ],
    };

    [McpServerTool(Name = "test_tool_with_logging"), Description("Sends three info log notifications while it runs (conformance: tools-call-with-logging).")]
    public static async Task<string> ToolWithLogging(McpServer server, CancellationToken cancellationToken)
    {
        string[] steps = ["Tool execution started", "Tool processing data", "Tool execution completed"];
        for (var i = 0; i < steps.Length; i++)
        {
            if (i > 0) await Task.Delay(50, cancellationToken);
            await server.SendNotificationAsync(NotificationMethods.LoggingMessageNotification, new LoggingMessageNotificationParams
            {
                Level = LoggingLevel.Info,
                Logger = "conformance",
                Data = JsonSerializer.SerializeToElement(steps[i]),
            }, cancellationToken: cancellationToken);
        }
        return "Tool with logging executed successfully";
    }

    [McpServerTool(Name = "test_tool_with_progress"), Description("Reports progress 0, 50 and 100 of 100 (conformance: tools-call-with-progress).")]
    public static async Task<string> ToolWithProgress(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        // Awaited one by one (IProgress<T>.Report is fire-and-forget, so its notifications could overtake each other).
        var token = context.Params?.ProgressToken;
        foreach (var progress in new[] { 0, 50, 100 })
        {
            if (progress > 0) await Task.Delay(50, cancellationToken);
            if (token is { } t)
                await context.Server.NotifyProgressAsync(t, new ProgressNotificationValue { Progress = progress, Total = 100, Message = $"{progress}%" },
                    cancellationToken: cancellationToken);
        }
        return "Tool with progress executed successfully";
    }

    [McpServerTool(Name = "test_error_handling"), Description("Always fails with a tool error (conformance: tools-call-error).")]
    public static CallToolResult ErrorHandling() => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = "This tool intentionally returns an error for testing" }],
    };

    public const string JsonSchema2020ToolName = "json_schema_2020_12_tool";

    /// <summary>Its advertised inputSchema is replaced by <see cref="JsonSchema2020InputSchema"/> (ConformanceEndpoint).</summary>
    [McpServerTool(Name = JsonSchema2020ToolName), Description("Tool with JSON Schema 2020-12 features (conformance: json-schema-2020-12).")]
    public static string JsonSchema2020(string? name = null, JsonElement? address = null) =>
        $"name={name ?? "(none)"}, address={(address is { } a ? a.GetRawText() : "(none)")}";

    public static JsonElement JsonSchema2020InputSchema { get; } = JsonDocument.Parse("""
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "$defs": {
            "address": {
              "type": "object",
              "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
            }
          },
          "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" }
          },
          "additionalProperties": false
        }
        """).RootElement.Clone();
}

/// <summary>Prompts named by the conformance scenarios prompts-*; completion-complete targets test_prompt_with_arguments.</summary>
[McpServerPromptType]
public static class ConformancePrompts
{
    [McpServerPrompt(Name = "test_simple_prompt"), Description("A prompt without arguments.")]
    public static PromptMessage SimplePrompt() =>
        new() { Role = Role.User, Content = new TextContentBlock { Text = "This is a simple prompt for testing." } };

    [McpServerPrompt(Name = "test_prompt_with_arguments"), Description("A prompt with two required arguments.")]
    public static PromptMessage PromptWithArguments(
        [Description("First test argument")] string arg1,
        [Description("Second test argument")] string arg2) =>
        new() { Role = Role.User, Content = new TextContentBlock { Text = $"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'" } };

    [McpServerPrompt(Name = "test_prompt_with_embedded_resource"), Description("A prompt that embeds the resource it is given.")]
    public static IEnumerable<PromptMessage> PromptWithEmbeddedResource([Description("URI of the resource to embed")] string resourceUri) =>
    [
        new()
        {
            Role = Role.User,
            Content = new EmbeddedResourceBlock
            {
                Resource = new TextResourceContents { Uri = resourceUri, MimeType = "text/plain", Text = "Embedded resource content for testing." },
            },
        },
        new() { Role = Role.User, Content = new TextContentBlock { Text = "Please process the embedded resource above." } },
    ];

    [McpServerPrompt(Name = "test_prompt_with_image"), Description("A prompt with an image.")]
    public static IEnumerable<PromptMessage> PromptWithImage() =>
    [
        new() { Role = Role.User, Content = ImageContentBlock.FromBytes(ConformanceMedia.Png, "image/png") },
        new() { Role = Role.User, Content = new TextContentBlock { Text = "Please analyze the image above." } },
    ];
}

/// <summary>Resources named by the conformance scenarios resources-*.</summary>
[McpServerResourceType]
public static class ConformanceResources
{
    [McpServerResource(UriTemplate = "test://static-text", Name = "static-text", MimeType = "text/plain"), Description("A static text resource.")]
    public static TextResourceContents StaticText() =>
        new() { Uri = "test://static-text", MimeType = "text/plain", Text = "This is the content of the static text resource." };

    [McpServerResource(UriTemplate = "test://static-binary", Name = "static-binary", MimeType = "image/png"), Description("A static binary (PNG) resource.")]
    public static BlobResourceContents StaticBinary() => BlobResourceContents.FromBytes(ConformanceMedia.Png, "test://static-binary", "image/png");

    [McpServerResource(UriTemplate = "test://template/{id}/data", Name = "template-data", MimeType = "application/json")]
    [Description("A templated resource that echoes its id.")]
    public static TextResourceContents TemplateData([Description("Any id")] string id) => new()
    {
        Uri = $"test://template/{id}/data",
        MimeType = "application/json",
        Text = JsonSerializer.Serialize(new { id, templateTest = true, data = $"Data for ID: {id}" }),
    };
}

/// <summary>Tiny valid media for the image and audio fixtures.</summary>
internal static class ConformanceMedia
{
    /// <summary>A 1×1 red PNG.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");

    /// <summary>10 ms of 8 kHz, 8-bit mono silence as a RIFF/WAVE file.</summary>
    public static readonly byte[] Wav = MakeWav(sampleRate: 8000, samples: 80);

    private static byte[] MakeWav(int sampleRate, int samples)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true))
        {
            w.Write("RIFF"u8); w.Write(36 + samples); w.Write("WAVE"u8);
            w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)1); // PCM, mono
            w.Write(sampleRate); w.Write(sampleRate); w.Write((short)1); w.Write((short)8); // byte rate, block align, bits
            w.Write("data"u8); w.Write(samples);
            for (var i = 0; i < samples; i++) w.Write((byte)128); // 8-bit PCM silence
        }
        return stream.ToArray();
    }
}
