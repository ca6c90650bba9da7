using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>
/// The fallback behind pub/sub (at most once): every couple of seconds an API replica re-reads the jobs it follows
/// from the store, and learns the models the workers have loaded (it validates requests against them without loading
/// ONNX sessions itself).
/// </summary>
internal sealed class RedisMirrorRefresher(
    RedisJobMirror mirror,
    IPredictionStore predictions,
    JobStore store,
    RedisModelRegistry registry,
    ModelCatalog catalog,
    ILogger<RedisMirrorRefresher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not refresh followed jobs and models from Redis");
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        foreach (var info in await registry.ReadAllAsync(cancellationToken))
        {
            if (catalog.Find(info.Name) is { } model)
            {
                catalog.MarkLoaded(model, info);
            }
        }
        foreach (var job in mirror.Followed.ToArray())
        {
            if (job.RunsHere)
            {
                continue;
            }
            if (await predictions.GetAsync(job.Id, cancellationToken) is { } record)
            {
                job.Refresh(record);
            }
            if (job.Status.IsTerminal())
            {
                mirror.Unfollow(job.Id);
                store.Unfollow(job.Id);
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
