using Microsoft.Extensions.Diagnostics.HealthChecks;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Worker;

/// <summary>Ready when every model is loaded and every worker is alive.</summary>
internal sealed class WorkerHealthCheck(IEnumerable<IHostedService> services, ModelCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var workers = services.OfType<GenerationWorker>().ToArray();
        var data = new Dictionary<string, object>
        {
            ["workers"] = workers.Select(w => $"device {w.Device}: {w.State}").ToArray(),
            ["models"] = catalog.Models.Select(m => $"{m.Name}: {(catalog.InfoOf(m) is null ? "not loaded" : "loaded")}").ToArray(),
        };
        if (workers.Length == 0)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("no workers", data: data));
        }
        if (workers.FirstOrDefault(w => w.State == WorkerState.Failed) is { } failed)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"worker on device {failed.Device} could not load any model: {failed.FailureReason}", data: data));
        }
        if (workers.FirstOrDefault(w => w.State == WorkerState.Ready && w.FailureReason is not null) is { } degraded)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"models failed to load on device {degraded.Device}: {degraded.FailureReason}", data: data));
        }
        if (workers.Any(w => w.State != WorkerState.Ready) || !catalog.AllLoaded)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("loading models", data: data));
        }
        if (workers.Any(w => w.ExecuteTask is { IsCompleted: true }))
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("a worker has stopped", data: data));
        }
        return Task.FromResult(HealthCheckResult.Healthy("models loaded, workers alive", data));
    }
}
