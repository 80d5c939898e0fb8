using System.Text.Json;
using System.Text.Json.Serialization;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Dovecote.Api.Mcp;

/// <summary>Tool answers as structured content (matching the output schema) plus a short text a person or model can read.</summary>
public static class ToolResults
{
    /// <summary>
    /// The tools' serializer options. Nulls are written: the output schemas list nullable fields as required, and clients
    /// validate. The SDK (2.3.1) also serializes a returned <see cref="CallToolResult"/> with these options and parses it
    /// back, as if it were structured content, only to discard it (it answers with the result as given): that cost an
    /// eighth of a large list_channels answer, so with these options a <see cref="CallToolResult"/> is written as null.
    /// </summary>
    public static JsonSerializerOptions Json { get; } = new(McpJsonUtilities.DefaultOptions)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new DiscardedToolResultConverter() },
    };

    public static CallToolResult Error(string reason) => new() { IsError = true, Content = [new TextContentBlock { Text = reason }] };

    /// <summary>
    /// What to tell a caller whose arguments were wrong: a tool's own refusal (<see cref="McpException"/>), or the
    /// SDK's refusal to bind them (a missing required argument, a value of the wrong JSON type); or that the cluster did
    /// not answer (retry). Null for anything else.
    /// </summary>
    public static string? CallerMistake(Exception exception) => exception switch
    {
        McpProtocolException => null, // a JSON-RPC error (unknown tool) the SDK answers itself
        McpException e => e.Message,
        ArgumentException { ParamName: "arguments" } e => e.Message.Replace(" (Parameter 'arguments')", "", StringComparison.Ordinal),
        JsonException => "An argument has the wrong type; see the tool's input schema.",
        _ when Hosting.ClusterCalls.IsTransient(exception) => Hosting.ClusterCalls.Unavailable,
        _ => null,
    };

    public static CallToolResult Create<T>(T structured, string text) => new()
    {
        StructuredContent = JsonSerializer.SerializeToElement(structured, Json),
        Content = [new TextContentBlock { Text = text }],
    };

    private sealed class DiscardedToolResultConverter : JsonConverter<CallToolResult>
    {
        public override CallToolResult Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("tool results are written by the SDK's own serializer context");

        public override void Write(Utf8JsonWriter writer, CallToolResult value, JsonSerializerOptions options) => writer.WriteNullValue();
    }
}
