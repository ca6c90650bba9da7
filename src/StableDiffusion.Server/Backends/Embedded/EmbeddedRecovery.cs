using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Backends.Embedded;

/// <summary>
/// At start, before the workers take jobs: queues again every prediction the store holds unfinished. A job found
/// <c>processing</c> was interrupted by a crash (or a shutdown past its grace): it runs again as the next attempt, up
/// to <c>Storage:MaxAttempts</c>, then fails with an error that says so.
/// </summary>
internal sealed class EmbeddedRecovery(
    IPredictionStore predictions,
    JobStore store,
    GenerationQueue channel,
    ModelCatalog catalog,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<EmbeddedRecovery> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var requeued = 0;
        foreach (var record in await predictions.UnfinishedAsync(cancellationToken))
        {
            var job = Job.FromRecord(record, catalog.Find(record.Model) ?? catalog.Default);
            store.Follow(job);
            if (record.Status == JobStatus.Processing)
            {
                if (record.Attempt >= options.Value.MaxAttempts)
                {
                    job.TryFail(PoisonError(record.Attempt), time.GetUtcNow());
                    logger.LogWarning("Job {JobId} failed: interrupted on each of its {Attempts} attempts", job.Id, record.Attempt);
                    continue;
                }
                job.Requeue($"Attempt {record.Attempt} was interrupted (the server stopped); running it again as attempt {record.Attempt + 1}");
            }
            // Recovery may exceed the capacity the queue admits new work at; it must never drop a stored job.
            if (!channel.TryEnqueue(job, force: true))
            {
                job.TryFail("the server could not queue the job again after a restart", time.GetUtcNow());
                continue;
            }
            requeued++;
        }
        if (requeued > 0)
        {
            logger.LogInformation("Queued {Count} stored predictions again after a restart", requeued);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static string PoisonError(int attempts)
        => $"the job was interrupted on each of its {attempts} attempts (Storage:MaxAttempts) and was not run again";
}
