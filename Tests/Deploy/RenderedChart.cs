using System.Text;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Dovecote.Tests.Deploy;

/// <summary>
/// The manifests a chart rendered, and the environment a container of one of its Deployments would get from the
/// kubelet: plain values, ConfigMap and Secret keys, and the downward API.
/// </summary>
public sealed class RenderedChart
{
    private RenderedChart(List<JsonObject> documents) => Documents = documents;

    public IReadOnlyList<JsonObject> Documents { get; }

    public static RenderedChart Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return new([.. stream.Documents.Select(d => ToJson(d.RootNode)).OfType<JsonObject>()]);
    }

    public IEnumerable<JsonObject> OfKind(string kind) => Documents.Where(d => (string?)d["kind"] == kind);

    /// <summary>The one document of this kind whose name ends with <paramref name="nameSuffix"/> (e.g. "-silo").</summary>
    public JsonObject Single(string kind, string nameSuffix = "") =>
        Assert.Single(OfKind(kind), d => ((string)d["metadata"]!["name"]!).EndsWith(nameSuffix, StringComparison.Ordinal));

    public JsonObject Container(string deploymentSuffix, string container) =>
        Assert.Single(Single("Deployment", deploymentSuffix)["spec"]!["template"]!["spec"]!["containers"]!.AsArray(),
            c => (string?)c!["name"] == container)!.AsObject();

    /// <summary>
    /// What the kubelet would set in <paramref name="container"/>: each env entry's value, or its valueFrom resolved
    /// against the rendered ConfigMaps and Secrets (an optional key that is absent is left out) and the downward API
    /// (<c>status.podIP</c>, <c>metadata.name</c>).
    /// </summary>
    public Dictionary<string, string> Environment(string deploymentSuffix, string container, string podIp, string podName)
    {
        var spec = Container(deploymentSuffix, container);
        Assert.Null(spec["envFrom"]); // every variable is named, so a drift in names shows up here
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in spec["env"]!.AsArray().Select(e => e!.AsObject()))
        {
            var name = (string)entry["name"]!;
            var value = entry["value"] is { } plain ? (string?)plain : Resolve(name, entry["valueFrom"]!.AsObject(), podIp, podName);
            if (value is not null) environment[name] = value;
        }
        return environment;
    }

    private string? Resolve(string name, JsonObject from, string podIp, string podName)
    {
        if (from["fieldRef"] is { } field)
            return (string?)field["fieldPath"] switch
            {
                "status.podIP" => podIp,
                "metadata.name" => podName,
                var path => throw new InvalidOperationException($"{name}: fieldRef {path} is not simulated"),
            };
        if (from["configMapKeyRef"] is { } configKey)
            return Key(name, "ConfigMap", configKey.AsObject(), map => map["data"]?[(string)configKey["key"]!] is { } v ? (string?)v : null);
        if (from["secretKeyRef"] is { } secretKey)
        {
            var key = (string)secretKey["key"]!;
            return Key(name, "Secret", secretKey.AsObject(), secret =>
                secret["data"]?[key] is { } data ? Encoding.UTF8.GetString(Convert.FromBase64String((string)data!))
                : secret["stringData"]?[key] is { } text ? (string?)text : null);
        }
        throw new InvalidOperationException($"{name}: valueFrom {from.ToJsonString()} is not simulated");
    }

    private string? Key(string variable, string kind, JsonObject reference, Func<JsonObject, string?> read)
    {
        var optional = (string?)reference["optional"] == "true";
        var name = (string)reference["name"]!;
        var source = OfKind(kind).FirstOrDefault(d => (string?)d["metadata"]!["name"] == name);
        var value = source is null ? null : read(source);
        Assert.True(value is not null || optional, $"{variable} needs key {reference["key"]} of {kind} {name}, which the chart did not render");
        return value;
    }

    /// <summary>Scalars stay strings ("3", "true"): the assertions compare what the manifest says.</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode { Value: null or "" or "~" or "null", Style: YamlDotNet.Core.ScalarStyle.Plain } => null,
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };
}
