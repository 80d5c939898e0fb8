using Microsoft.Extensions.Configuration;

namespace Dovecote.Grains.Hosting;

/// <summary>Whether metrics are exported; the OTLP exporter reads the other standard OTEL_* variables itself.</summary>
public sealed class TelemetryOptions
{
    [ConfigurationKeyName("OTEL_EXPORTER_OTLP_ENDPOINT")]
    public string? OtlpEndpoint { get; set; }

    [ConfigurationKeyName("OTEL_SERVICE_NAME")]
    public string? ServiceName { get; set; }
}
