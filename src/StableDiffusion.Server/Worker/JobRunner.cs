using System.Diagnostics;
using Microsoft.Extensions.Options;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Telemetry;

namespace StableDiffusion.Server.Worker;

/// <summary>How a started job's generation runs: alone (<see cref="JobRunner.AloneAsync"/>) or as a member of a batch
/// (<see cref="BatchRunner"/>).</summary>
internal delegate Task<GenerationResult> JobGeneration(Job job, StableDiffusionPipeline pipeline, GenerationSettings settings, GenerationObserver observer);

/// <summary>
/// Runs one job on a device's pipelines and turns the <see cref="GenerationResult"/> into outputs, logs, metrics and
/// a final status (cog's runner). A failing job fails alone; shutdown gives a running job a bounded grace period.
/// </summary>
internal sealed class JobRunner(
    JobStore store,
    ServerMetrics metrics,
    IOptions<QueueOptions> queueOptions,
    IOptions<StorageOptions> storage,
    IOptionsMonitor<WatermarkOptions> watermark,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<JobRunner> logger)
{
    public async Task RunAsync(Job job, DevicePipelines pipelines, CancellationToken stoppingToken)
    {
        if (TryStart(job, pipelines.Device))
        {
            await RunStartedAsync(job, pipelines, stoppingToken, AloneAsync);
        }
    }

    /// <summary>Runs a job <see cref="TryStart"/> started, its generation made by <paramref name="generate"/>: outputs,
    /// logs, metrics and final status, or a retry, a hand-back at shutdown, a cancel.</summary>
    public async Task RunStartedAsync(Job job, DevicePipelines pipelines, CancellationToken stoppingToken, JobGeneration generate)
    {
        using var activity = ServerTracing.Source.StartActivity("job");
        activity?.SetTag("job.id", job.Id);
        activity?.SetTag("model", job.Model.Name);
        activity?.SetTag("steps", job.Request.Steps);
        activity?.SetTag("width", job.Request.Width);
        activity?.SetTag("height", job.Request.Height);

        // Shutdown lets the running job finish, but only for so long: the grace starts when the host begins to stop
        // (not when this service's turn to stop comes, after the HTTP server has drained), so it is really enforced.
        var grace = TimeSpan.FromSeconds(queueOptions.Value.ShutdownGraceSeconds);
        using var shutdown = lifetime.ApplicationStopping.Register(() => job.CancelAfter(grace));
        using var stopped = stoppingToken.Register(() => job.CancelAfter(grace));
        try
        {
            LogStart(job, pipelines.Find(job.Model.Name)?.Info.DefaultScheduler ?? "model default");
            var pipeline = pipelines.Get(job.Model.Name);
            var files = await GenerateAsync(job, pipeline, pipelines, generate);
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
                // The store keeps the job: it runs again (as the next attempt) after a restart or on another worker.
                job.Requeue($"The server stopped during attempt {job.Attempt} (grace {grace.TotalSeconds:0} s); the job was queued again and runs as attempt {job.Attempt + 1}", handedBack: true);
                logger.LogWarning("Job {JobId} handed back to the queue at shutdown after attempt {Attempt}", job.Id, job.Attempt);
                return;
            }
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
        activity?.SetTag("status", job.Status.WireName());
        if (job.Status == JobStatus.Failed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, job.Error);
        }
        Finished(job);
    }

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

    /// <summary>The job's generation on its own: one pipeline call, a batch of one.</summary>
    public async Task<GenerationResult> AloneAsync(Job job, StableDiffusionPipeline pipeline, GenerationSettings settings, GenerationObserver observer)
    {
        var onnxBefore = pipeline.Components.Select(c => c.RunSeconds).ToArray();
        metrics.Batch(1, settings.NumOutputs);
        var result = await Task.Run(() => pipeline.Generate(settings, observer, job.Cancellation), CancellationToken.None);
        for (var i = 0; i < onnxBefore.Length; i++)
        {
            metrics.SessionTime(job.Model.Name, pipeline.Components[i].Name, pipeline.Components[i].RunSeconds - onnxBefore[i]);
        }
        metrics.UNetCalls(job.Model.Name, result.StepsRun, settings.NumOutputs);
        return result;
    }

    private async Task<IReadOnlyList<StoredFile>> GenerateAsync(Job job, StableDiffusionPipeline pipeline, DevicePipelines pipelines, JobGeneration generate)
    {
        var request = job.Request;
        var observer = new GenerationObserver
        {
            OnStep = p => job.ReportProgress(p.Step, p.TotalSteps, p.Elapsed),
            OnLog = job.AppendLog,
        };
        var watermarkPayload = watermark.CurrentValue.Enabled ? watermark.CurrentValue.Payload : null;
        var startedAt = time.GetUtcNow();
        var settings = HiresUpscaling.Attach(request.ToSettings(watermarkPayload), pipelines);
        var result = await generate(job, pipeline, settings, observer);
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
        job.AppendLog($"Generated {result.Images.Count} image(s) in {(time.GetUtcNow() - startedAt).TotalSeconds:0.000} s ({(denoise > 0 ? result.StepsRun / denoise : 0):0.00} steps/s)");
        return files;
    }
}
