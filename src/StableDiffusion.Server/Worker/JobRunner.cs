using System.Diagnostics;
using Microsoft.Extensions.Options;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Telemetry;

namespace StableDiffusion.Server.Worker;

/// <summary>How a started job's device part runs: alone (<see cref="JobRunner.AloneAsync"/>) or as a member of a batch
/// (<see cref="BatchRunner"/>).</summary>
internal delegate Task<DecodedGeneration> JobGeneration(Job job, StableDiffusionPipeline pipeline, GenerationSettings settings, GenerationObserver observer);

/// <summary>
/// Runs one job on a device's pipelines and turns the <see cref="GenerationResult"/> into outputs, logs, metrics and
/// a final status (cog's runner). The device part (<see cref="StableDiffusionPipeline.Render"/>) runs on the worker; the
/// ending (watermark, encode, store, completion, the end of the claim) goes to the <see cref="PostProcessor"/>, so the
/// worker takes its next job meanwhile. A failing job fails alone; shutdown gives a running job a bounded grace period.
/// </summary>
internal sealed class JobRunner(
    JobStore store,
    IJobQueue jobs,
    PostProcessor postProcessor,
    ServerMetrics metrics,
    IOptions<QueueOptions> queueOptions,
    IOptions<StorageOptions> storage,
    IOptionsMonitor<WatermarkOptions> watermark,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<JobRunner> logger)
{
    /// <summary>A job's device part is over (its ending may still run): a claimer may fill the device again.</summary>
    public event Action<Job>? DeviceFreed;

    /// <summary>Returns when the device is free for the next job: the job itself may still be finishing in the
    /// post-processing stage, which ends its claim (queue completion, or release when it was handed back).</summary>
    public async Task RunAsync(Job job, DevicePipelines pipelines, CancellationToken stoppingToken)
    {
        if (!TryStart(job, pipelines.Device))
        {
            await EndClaimAsync(job);
            return;
        }
        await RunStartedAsync(job, pipelines, stoppingToken, AloneAsync);
    }

    /// <summary><see cref="RunAsync"/> for a job <see cref="TryStart"/> started, its device part made by <paramref name="generate"/>.</summary>
    public async Task RunStartedAsync(Job job, DevicePipelines pipelines, CancellationToken stoppingToken, JobGeneration generate)
    {
        var activity = ServerTracing.Source.StartActivity("job");
        activity?.SetTag("job.id", job.Id);
        activity?.SetTag("model", job.Model.Name);
        activity?.SetTag("steps", job.Request.Steps);
        activity?.SetTag("width", job.Request.Width);
        activity?.SetTag("height", job.Request.Height);

        // Shutdown lets the running job finish, but only for so long: the grace starts when the host begins to stop
        // (not when this service's turn to stop comes, after the HTTP server has drained), so it is really enforced.
        // A job past its device part when the host begins to stop is finished by the post-processing stage's drain.
        var grace = TimeSpan.FromSeconds(queueOptions.Value.ShutdownGraceSeconds);
        Rendered? rendered = null;
        using (lifetime.ApplicationStopping.Register(() => job.CancelAfter(grace)))
        using (stoppingToken.Register(() => job.CancelAfter(grace)))
        {
            await GuardAsync(job, grace, async () => rendered = await RenderAsync(job, pipelines, generate));
        }
        if (rendered is null)
        {
            await EndAsync(job, activity);
            return;
        }
        DeviceFreed?.Invoke(job);
        await postProcessor.EnqueueAsync(async () =>
        {
            // Core's watermark and encode spans belong under this job's span (this flow's change stays in this lambda).
            Activity.Current = activity;
            await GuardAsync(job, grace, () => CompleteAsync(job, rendered));
            await EndAsync(job, activity);
        });
    }

    /// <summary>Runs one part of a job; a cancellation or a failure becomes the job's state (canceled, handed back,
    /// queued again, failed).</summary>
    private async Task GuardAsync(Job job, TimeSpan grace, Func<Task> part)
    {
        try
        {
            await part();
        }
        catch (OperationCanceledException) when (job.Cancellation.IsCancellationRequested)
        {
            if (job.CancelRequested)
            {
                job.TryMarkCanceled(time.GetUtcNow());
                return;
            }
            // The store keeps the job: it runs again (as the next attempt) after a restart or on another worker.
            job.Requeue($"The server stopped during attempt {job.Attempt} (grace {grace.TotalSeconds:0} s); the job was queued again and runs as attempt {job.Attempt + 1}", handedBack: true);
            logger.LogWarning("Job {JobId} handed back to the queue at shutdown after attempt {Attempt}", job.Id, job.Attempt);
        }
        catch (Exception e)
        {
            // One bad job must not take the worker (and every queued job) with it. A failure may be this machine's
            // (out of memory, a lost device): another attempt, here or on another worker, up to Storage:MaxAttempts.
            var error = $"{e.GetType().Name}: {e.Message}";
            if (job.Attempt < storage.Value.MaxAttempts)
            {
                logger.LogWarning(e, "Job {JobId} attempt {Attempt} failed; queued again", job.Id, job.Attempt);
                job.Requeue($"Attempt {job.Attempt} failed ({error}); running it again as attempt {job.Attempt + 1}");
                return;
            }
            logger.LogError(e, "Job {JobId} failed on attempt {Attempt}", job.Id, job.Attempt);
            job.TryFail(job.Attempt > 1 ? $"{error} (on each of {job.Attempt} attempts)" : error, time.GetUtcNow());
        }
    }

    /// <summary>A job's last word: its span and counts when it reached a final state (a job queued again has not), then
    /// the end of the worker's claim.</summary>
    private async Task EndAsync(Job job, Activity? activity)
    {
        if (job.Status.IsTerminal())
        {
            activity?.SetTag("status", job.Status.WireName());
            if (job.Status == JobStatus.Failed)
            {
                activity?.SetStatus(ActivityStatusCode.Error, job.Error);
            }
            Finished(job);
        }
        activity?.Dispose();
        await EndClaimAsync(job);
    }

    /// <summary>A job handed back or queued again is released to the queue; any other outcome ends the claim.</summary>
    public Task EndClaimAsync(Job job) => job.Status == JobStatus.Starting
        ? jobs.ReleaseAsync(job, CancellationToken.None)
        : jobs.CompleteAsync(job, CancellationToken.None);

    /// <summary>Logs a job's final state and counts it.</summary>
    public void Finished(Job job)
    {
        metrics.JobFinished(job);
        var r = job.Request;
        logger.LogInformation("Job {JobId} {Status}: model {Model}, {Steps} steps, {Width}x{Height}, queue {QueueSeconds:0.000} s, run {RunSeconds:0.000} s{Error}",
            job.Id, job.Status.WireName(), job.Model.Name, r.Steps, r.Width, r.Height,
            ((job.StartedAt ?? job.CompletedAt ?? job.CreatedAt) - job.CreatedAt).TotalSeconds,
            job.StartedAt is { } s && job.CompletedAt is { } c ? (c - s).TotalSeconds : 0.0,
            job.Error is null ? "" : ": " + job.Error);
    }

    /// <summary>Queued → processing, unless the job was canceled while queued or waited past its deadline.</summary>
    public bool TryStart(Job job, int device)
    {
        var now = time.GetUtcNow();
        if (job.Status.IsTerminal())
        {
            return false; // canceled while queued
        }
        if (now > job.Deadline)
        {
            if (job.TryFail(JobDispatcher.DeadlineError(queueOptions.Value.JobDeadlineSeconds), now))
            {
                Finished(job);
            }
            return false;
        }
        if (!job.TryStart(now))
        {
            return false;
        }
        metrics.JobStarted(job);
        logger.LogInformation("Job {JobId} {Status}: model {Model}, {Steps} steps, device {Device}, waited {QueueSeconds:0.000} s",
            job.Id, "processing", job.Model.Name, job.Request.Steps, device, (now - job.CreatedAt).TotalSeconds);
        return true;
    }

    private static void LogStart(Job job, string defaultScheduler)
    {
        var request = job.Request;
        if (job.Model.IsDemo)
        {
            job.AppendLog(DemoModel.Warning);
        }
        job.AppendLog(request.SeedGiven ? $"Using seed: {request.Seed}" : $"Using seed: {request.Seed} (random)");
        job.AppendLog($"Model: {job.Model.Name}, {GenerationRequestValidator.Describe(request.Task)}, {request.Width}x{request.Height}, {request.Steps} steps, guidance {request.GuidanceScale}, scheduler {request.Scheduler ?? defaultScheduler}, {request.NumOutputs} output(s)");
    }

    /// <summary>What the device part hands to the post-processing stage.</summary>
    private sealed record Rendered(DecodedGeneration Generation, DateTimeOffset StartedAt);

    /// <summary>The device part: text encoder, denoising, VAE decode, safety checker (each an ONNX session).</summary>
    private async Task<Rendered> RenderAsync(Job job, DevicePipelines pipelines, JobGeneration generate)
    {
        LogStart(job, pipelines.Find(job.Model.Name)?.Info.DefaultScheduler ?? "model default");
        var pipeline = pipelines.Get(job.Model.Name);
        var observer = new GenerationObserver
        {
            OnStep = p => job.ReportProgress(p.Step, p.TotalSteps, p.Elapsed),
            OnLog = job.AppendLog,
        };
        var watermarkPayload = watermark.CurrentValue.Enabled ? watermark.CurrentValue.Payload : null;
        var startedAt = time.GetUtcNow();
        var settings = HiresUpscaling.Attach(job.Request.ToSettings(watermarkPayload), pipelines);
        var decoded = await generate(job, pipeline, settings, observer);
        return new Rendered(decoded, startedAt);
    }

    /// <summary>The job's device part on its own: one pipeline call, a batch of one.</summary>
    public async Task<DecodedGeneration> AloneAsync(Job job, StableDiffusionPipeline pipeline, GenerationSettings settings, GenerationObserver observer)
    {
        var onnxBefore = pipeline.Components.Select(c => c.RunSeconds).ToArray();
        var (hitsBefore, missesBefore) = (pipeline.PromptCache.Hits, pipeline.PromptCache.Misses);
        metrics.Batch(1, settings.NumOutputs);
        var decoded = await Task.Run(() => pipeline.Render(settings, observer, job.Cancellation), CancellationToken.None);
        for (var i = 0; i < onnxBefore.Length; i++)
        {
            metrics.SessionTime(job.Model.Name, pipeline.Components[i].Name, pipeline.Components[i].RunSeconds - onnxBefore[i]);
        }
        metrics.PromptCache(job.Model.Name, pipeline.PromptCache.Hits - hitsBefore, pipeline.PromptCache.Misses - missesBefore);
        metrics.UNetCalls(job.Model.Name, decoded.StepsRun, settings.NumOutputs);
        return decoded;
    }

    /// <summary>The CPU part: watermark and encode, outputs stored, then the job succeeds (its webhooks and metrics
    /// follow from that), never before its files exist.</summary>
    private async Task CompleteAsync(Job job, Rendered rendered)
    {
        var request = job.Request;
        var result = rendered.Generation.Finish(job.Cancellation);
        var files = new List<StoredFile>(result.Images.Count);
        foreach (var image in result.Images)
        {
            var bytes = image.Bytes;
            var id = Ids.New();
            files.Add(await store.SaveFileAsync(new StoredFile(id, job.Id, $"out-{image.Index}.{request.OutputFormat.Extension()}",
                request.OutputFormat.ContentType(), bytes.LongLength, time.GetUtcNow())
            {
                Key = StoredFile.KeyFor(id, job.Id, job.Attempt),
                DataUri = job.OutputAsDataUri ? $"data:{request.OutputFormat.ContentType()};base64,{Convert.ToBase64String(bytes)}" : null,
            }, bytes));
        }
        foreach (var image in result.Images.Where(i => i.NsfwDetected))
        {
            // Replicate's stable-diffusion answers a flagged output the same way.
            job.AppendLog($"nsfw content detected in output {image.Index}: replaced by a black image");
        }
        var denoise = result.StageSeconds.GetValueOrDefault("denoise");
        metrics.Generated(job.Model.Name, result.Images.Count, result.StepsRun, denoise, result.StageSeconds, result.OnnxRuntimeSeconds);
        job.AppendLog($"Generated {result.Images.Count} image(s) in {(time.GetUtcNow() - rendered.StartedAt).TotalSeconds:0.000} s ({(denoise > 0 ? result.StepsRun / denoise : 0):0.00} steps/s)");
        job.TrySucceed(files, time.GetUtcNow());
    }
}
