namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Telemetry</c> section: OpenTelemetry export.</summary>
internal sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>OTLP collector (<c>http://collector:4317</c>); null = no OTLP export (Prometheus scrape stays on).</summary>
    public string? OtlpEndpoint { get; set; }

    public string ServiceName { get; set; } = "stablediffusion-server";
}
