using System.Text.Json;
using System.Text.Json.Serialization;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Dovecote.Api.Mcp;

/// <summary>Tool answers as structured content (matching the output schema) plus a short text a person or model can read.</summary>
public static class ToolResults
{
    /// <summary>Nulls are written: the output schemas list nullable fields as required, and clients validate.</summary>
    public static JsonSerializerOptions Json { get; } = new(McpJsonUtilities.DefaultOptions) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public static CallToolResult Create<T>(T structured, string text) => new()
    {
        StructuredContent = JsonSerializer.SerializeToElement(structured, Json),
        Content = [new TextContentBlock { Text = text }],
    };
}
