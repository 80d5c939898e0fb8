using Dovecote.Bench.Shared;

namespace Dovecote.Bench;

/// <summary>The settings of an embedded silo in the bench process: its data in <paramref name="dataDirectory"/>, free ports, local targets allowed.</summary>
internal static class EmbeddedSilo
{
    public static Dictionary<string, string?> Settings(string dataDirectory) => new()
    {
        ["DOVECOTE_DATA_DIR"] = dataDirectory,
        ["DOVECOTE_ALLOW_PRIVATE_TARGETS"] = "true",
        ["DOVECOTE_SILO_PORT"] = Children.FreePort().ToString(),
        ["DOVECOTE_GATEWAY_PORT"] = Children.FreePort().ToString(),
    };
}
