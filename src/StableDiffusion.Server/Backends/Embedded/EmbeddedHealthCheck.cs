using Microsoft.Extensions.Diagnostics.HealthChecks;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Backends.Embedded;

/// <summary>Ready only while the embedded database answers a read (a full disk or a removed data directory shows here).</summary>
internal sealed class EmbeddedHealthCheck(IPredictionStore predictions) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await predictions.GetAsync("health-check", cancellationToken);
            return HealthCheckResult.Healthy("embedded database answers");
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy("embedded database does not answer: " + e.Message);
        }
    }
}
