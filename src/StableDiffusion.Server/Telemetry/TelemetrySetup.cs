using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Serilog;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Telemetry;

/// <summary>Serilog, OpenTelemetry (Prometheus scrape, optional OTLP) and health checks.</summary>
internal static class TelemetrySetup
{
    public static WebApplicationBuilder AddServerTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture));

        var telemetry = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(telemetry.ServiceName))
            .WithMetrics(m =>
            {
                m.AddMeter(ServerMetrics.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                if (!string.IsNullOrEmpty(telemetry.OtlpEndpoint) && telemetry.OtlpEndpoint is { } endpoint)
                {
                    m.AddOtlpExporter(o => o.Endpoint = new Uri(endpoint));
                }
            })
            .WithTracing(t =>
            {
                t.AddSource(ServerTracing.SourceName, StableDiffusion.Core.CoreTelemetry.SourceName).AddAspNetCoreInstrumentation();
                if (!string.IsNullOrEmpty(telemetry.OtlpEndpoint) && telemetry.OtlpEndpoint is { } endpoint)
                {
                    t.AddOtlpExporter(o => o.Endpoint = new Uri(endpoint));
                }
            });
        _ = otel;

        return builder;
    }

    public static WebApplication MapOperations(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        // Live: the process answers. Ready: models loaded and workers alive (route traffic here only then).
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("ready"),
            ResponseWriter = HealthResponse.WriteAsync,
            ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
        });
        return app;
    }
}
