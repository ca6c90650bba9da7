using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Jobs;

/// <summary>Periodically fails queued jobs past their deadline and removes predictions past retention.</summary>
internal sealed class ResultRetentionService(JobStore store, JobDispatcher dispatcher, IOptions<ResultsOptions> options, ILogger<ResultRetentionService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                dispatcher.ExpireOverdue();
                var removed = await store.SweepAsync();
                if (removed > 0)
                {
                    logger.LogInformation("Expired {Count} predictions past retention", removed);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
