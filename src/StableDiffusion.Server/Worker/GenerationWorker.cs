using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Worker;

/// <summary>
/// The worker of one device: loads its pipelines, then takes the next queued job with the compatible ones queued
/// behind it (<see cref="BatchGatherer"/>) and hands them to the <see cref="BatchRunner"/> (one UNet batch; a lone job
/// goes to the <see cref="JobRunner"/>: cog's worker/runner split, this is the loop and its lifecycle). On shutdown it
/// stops taking jobs at once; jobs still in its channel go back to the queue (they stay stored as queued).
/// </summary>
internal sealed class GenerationWorker(
    int device,
    GenerationQueue queue,
    IJobQueue jobs,
    ModelCatalog catalog,
    BatchGatherer gatherer,
    BatchRunner runner,
    IOptions<ModelsOptions> modelOptions,
    IOptions<WorkerOptions> workerOptions,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger($"{typeof(GenerationWorker).FullName}[{device}]");
    private DevicePipelines? _pipelines;
    private volatile WorkerState _state = WorkerState.Loading;

    public int Device => device;

    public WorkerState State
    {
        get => _state;
        private set => _state = value;
    }

    /// <summary>Why loading failed, for the readiness check.</summary>
    public string? FailureReason { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Loading is synchronous and slow; keep it off the host's start-up path.
        await Task.Yield();
        var pipelines = new DevicePipelines(device, _logger);
        _pipelines = pipelines;
        await Task.Run(() => pipelines.LoadAll(catalog, modelOptions.Value), stoppingToken);
        // The other models still serve when some fail; jobs for a broken one fail with its load error, and readiness
        // says why. With none loaded the worker keeps draining the queue so jobs fail at once, not at their deadline.
        FailureReason = pipelines.LoadErrors;
        State = pipelines.Count == 0 ? WorkerState.Failed : WorkerState.Ready;
        if (State == WorkerState.Failed)
        {
            _logger.LogCritical("Worker on device {Device} could not load any model; its jobs fail: {Reason}", device, FailureReason);
        }

        // "Stop claiming at once": the host's stopping signal comes before any service is stopped.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        try
        {
            while (await queue.Reader.WaitToReadAsync(stopping.Token))
            {
                if (stopping.IsCancellationRequested)
                {
                    break;
                }
                if (queue.Reader.TryRead(out var job))
                {
                    // Returns once the device is free; the runner's post-processing stage ends each job and its claim.
                    var maxImages = workerOptions.Value.BatchImagesFor(pipelines.Find(job.Model.Name)?.Info.ExecutionProvider);
                    var gathered = await gatherer.GatherAsync(job, maxImages, stopping.Token);
                    await runner.RunAsync(gathered, pipelines, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            State = WorkerState.Stopped;
            await ReleaseChannelAsync();
        }
    }

    public override void Dispose()
    {
        _pipelines?.Dispose();
        base.Dispose();
    }

    /// <summary>Jobs this worker took from the queue but did not start stay queued in the store; a shared queue gets
    /// them back now rather than when their claim goes stale.</summary>
    private async Task ReleaseChannelAsync()
    {
        while (queue.Reader.TryRead(out var job))
        {
            if (!job.Status.IsTerminal())
            {
                await jobs.ReleaseAsync(job, CancellationToken.None);
            }
        }
    }
}
