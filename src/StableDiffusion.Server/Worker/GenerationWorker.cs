using System.Diagnostics;
using Microsoft.Extensions.Options;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Telemetry;

namespace StableDiffusion.Server.Worker;

/// <summary>
/// Owns the pipelines (ONNX sessions) of one device and runs queued jobs one at a time. A failing job fails alone;
/// on shutdown the running job gets a bounded grace period and queued jobs fail with a clear error.
/// </summary>
public sealed class GenerationWorker(
    int device,
    GenerationQueue queue,
    ModelCatalog catalog,
    JobStore store,
    ServerMetrics metrics,
    IOptions<ModelsOptions> modelOptions,
    IOptions<QueueOptions> queueOptions,
    IOptionsMonitor<WatermarkOptions> watermark,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger($"{typeof(GenerationWorker).FullName}[{device}]");
    private readonly Dictionary<string, StableDiffusionPipeline> _pipelines = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _loadErrors = new(StringComparer.OrdinalIgnoreCase);

    public int Device => device;

    private volatile WorkerState _state = WorkerState.Loading;

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
        await Task.Run(LoadModels, stoppingToken);
        if (_pipelines.Count == 0)
        {
            FailureReason = string.Join("; ", _loadErrors.Select(e => $"{e.Key}: {e.Value}"));
            State = WorkerState.Failed;
            // It keeps draining the queue so that jobs fail at once with the load error instead of waiting for their deadline.
            _logger.LogCritical("Worker on device {Device} could not load any model; its jobs fail: {Reason}", device, FailureReason);
        }
        else
        {
            if (_loadErrors.Count > 0)
            {
                // The other models still serve; jobs for a broken one fail with its load error, and readiness says why.
                FailureReason = string.Join("; ", _loadErrors.Select(e => $"{e.Key}: {e.Value}"));
            }
            State = WorkerState.Ready;
        }

        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    break;
                }
                if (queue.Reader.TryRead(out var job))
                {
                    await RunAsync(job, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            State = WorkerState.Stopped;
            FailQueued();
        }
    }

    public override void Dispose()
    {
        foreach (var pipeline in _pipelines.Values)
        {
            pipeline.Dispose();
        }
        base.Dispose();
    }

    private void LoadModels()
    {
        var o = modelOptions.Value;
        foreach (var model in catalog.Models)
        {
            var started = Stopwatch.GetTimestamp();
            StableDiffusionPipeline pipeline;
            try
            {
                if (model.IsDemo)
                {
                    DemoModel.EnsureBuilt(model.Path, _logger);
                }
                pipeline = StableDiffusionPipeline.Load(model.Path, new ModelLoadOptions
                {
                    ExecutionProvider = o.ExecutionProvider,
                    DeviceId = device,
                    IntraOpThreads = o.IntraOpThreads,
                    Name = model.Name,
                    SafetyChecker = model.SafetyChecker,
                }, _logger);
            }
            catch (Exception e)
            {
                _loadErrors[model.Name] = e.Message;
                _logger.LogCritical(e, "Could not load model {Model} from {Path} on device {Device}", model.Name, model.Path, device);
                continue;
            }
            _pipelines[model.Name] = pipeline;
            catalog.MarkLoaded(model, pipeline.Info);
            _logger.LogInformation("Loaded model {Model} from {Path} on device {Device} ({Provider}) in {Seconds:0.00} s: native {Width}x{Height}, tasks {Tasks}",
                model.Name, model.Path, device, pipeline.Info.ExecutionProvider, Stopwatch.GetElapsedTime(started).TotalSeconds,
                pipeline.Info.NativeWidth, pipeline.Info.NativeHeight, string.Join(",", pipeline.Info.Tasks));
            if (model.IsDemo)
            {
                _logger.LogWarning("""
                    ****************************************************************************
                    *  SERVING THE DEMO MODEL {Model}: RANDOM WEIGHTS, ITS IMAGES ARE NOISE.
                    *  Configure Models:Items in appsettings.json to serve a real model.
                    ****************************************************************************
                    """, model.Name);
            }
        }
    }

    private async Task RunAsync(Job job, CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        if (job.Status.IsTerminal())
        {
            return; // canceled while queued
        }
        if (now > job.Deadline)
        {
            if (job.TryFail(JobDispatcher.DeadlineError(queueOptions.Value.JobDeadlineSeconds), now))
            {
                Finished(job);
            }
            return;
        }
        if (!job.TryStart(now))
        {
            return;
        }
        metrics.JobStarted(job);
        var request = job.Request;
        _logger.LogInformation("Job {JobId} {Status}: model {Model}, {Steps} steps, device {Device}, waited {QueueSeconds:0.000} s",
            job.Id, "processing", job.Model.Name, request.Steps, device, (now - job.CreatedAt).TotalSeconds);

        using var activity = ServerTracing.Source.StartActivity("job");
        activity?.SetTag("job.id", job.Id);
        activity?.SetTag("model", job.Model.Name);
        activity?.SetTag("steps", request.Steps);
        activity?.SetTag("width", request.Width);
        activity?.SetTag("height", request.Height);

        if (job.Model.IsDemo)
        {
            job.AppendLog(DemoModel.Warning);
        }
        job.AppendLog(request.SeedGiven ? $"Using seed: {request.Seed}" : $"Using seed: {request.Seed} (random)");
        job.AppendLog($"Model: {job.Model.Name}, {GenerationRequestValidator.Describe(request.Task)}, {request.Width}x{request.Height}, {request.Steps} steps, guidance {request.GuidanceScale}, scheduler {request.Scheduler ?? _pipelines.GetValueOrDefault(job.Model.Name)?.Info.DefaultScheduler ?? "model default"}, {request.NumOutputs} output(s)");

        // Shutdown lets the running job finish, but only for so long.
        using var shutdown = stoppingToken.Register(() => job.CancelAfter(TimeSpan.FromSeconds(queueOptions.Value.ShutdownGraceSeconds)));
        var observer = new GenerationObserver
        {
            OnStep = p => job.AppendLog(ProgressBar.Format(p.Step, p.TotalSteps, p.Elapsed)),
            OnLog = job.AppendLog,
        };
        var watermarkPayload = watermark.CurrentValue.Enabled ? watermark.CurrentValue.Payload : null;
        var startedAt = time.GetUtcNow();
        try
        {
            var pipeline = _pipelines.GetValueOrDefault(job.Model.Name)
                ?? throw new InvalidOperationException($"model '{job.Model.Name}' is not loaded on device {device}: {_loadErrors.GetValueOrDefault(job.Model.Name)}");
            var settings = request.ToSettings(watermarkPayload);
            var onnxBefore = pipeline.Components.Select(c => c.RunSeconds).ToArray();
            var result = await Task.Run(() => pipeline.Generate(settings, observer, job.Cancellation), CancellationToken.None);
            for (var i = 0; i < onnxBefore.Length; i++)
            {
                metrics.SessionTime(job, pipeline.Components[i].Name, pipeline.Components[i].RunSeconds - onnxBefore[i]);
            }
            var files = new List<StoredFile>(result.Images.Count);
            foreach (var image in result.Images)
            {
                files.Add(new StoredFile(Ids.New(), job.Id, $"out-{image.Index}.{request.OutputFormat.Extension()}",
                    request.OutputFormat.ContentType(), image.Bytes, time.GetUtcNow()));
            }
            store.AddFiles(files);
            foreach (var image in result.Images)
            {
                if (image.NsfwDetected)
                {
                    // Replicate's stable-diffusion answers a flagged output the same way.
                    job.AppendLog($"nsfw content detected in output {image.Index}: replaced by a black image");
                }
            }
            var denoise = result.StageSeconds.GetValueOrDefault("denoise");
            metrics.Generated(job, result.Images.Count, result.StepsRun, denoise, result.StageSeconds, result.OnnxRuntimeSeconds);
            job.AppendLog($"Generated {result.Images.Count} image(s) in {(time.GetUtcNow() - startedAt).TotalSeconds:0.000} s ({(denoise > 0 ? result.StepsRun / denoise : 0):0.00} steps/s)");
            job.TrySucceed(files, time.GetUtcNow());
        }
        catch (OperationCanceledException) when (job.Cancellation.IsCancellationRequested)
        {
            if (job.CancelRequested)
            {
                job.TryMarkCanceled(time.GetUtcNow());
            }
            else
            {
                job.TryFail("the server shut down before the job finished", time.GetUtcNow());
            }
        }
        catch (Exception e)
        {
            // One bad job must not take the worker (and every queued job) with it.
            _logger.LogError(e, "Job {JobId} failed", job.Id);
            job.TryFail($"{e.GetType().Name}: {e.Message}", time.GetUtcNow());
        }
        activity?.SetTag("status", job.Status.WireName());
        if (job.Status == JobStatus.Failed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, job.Error);
        }
        Finished(job);
    }

    private void Finished(Job job)
    {
        metrics.JobFinished(job);
        var r = job.Request;
        _logger.LogInformation("Job {JobId} {Status}: model {Model}, {Steps} steps, {Width}x{Height}, queue {QueueSeconds:0.000} s, run {RunSeconds:0.000} s{Error}",
            job.Id, job.Status.WireName(), job.Model.Name, r.Steps, r.Width, r.Height,
            ((job.StartedAt ?? job.CompletedAt ?? job.CreatedAt) - job.CreatedAt).TotalSeconds,
            job.StartedAt is { } s && job.CompletedAt is { } c ? (c - s).TotalSeconds : 0.0,
            job.Error is null ? "" : ": " + job.Error);
    }

    private void FailQueued()
    {
        while (queue.Reader.TryRead(out var job))
        {
            if (job.TryFail("the server shut down before the job started; submit it again", time.GetUtcNow()))
            {
                Finished(job);
            }
        }
    }
}
