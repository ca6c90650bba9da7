using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StableDiffusion.Server.Telemetry;

/// <summary>Writes health reports as JSON with each check's description and data (why a server is not ready).</summary>
internal static class HealthResponse
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new
            {
                name = e.Key,
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data,
            }),
        }));
    }
}
