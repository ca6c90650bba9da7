using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Telemetry;

namespace StableDiffusion.Server.Jobs;

/// <summary>Creates jobs from validated requests and queues them; the one way work enters the server.</summary>
internal sealed class JobDispatcher(
    IJobQueue queue,
    GenerationQueue channel,
    JobStore store,
    ModelCatalog catalog,
    IEnumerable<IJobListener> listeners,
    ServerMetrics metrics,
    IOptions<QueueOptions> queueOptions,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<JobDispatcher> logger,
    IJobMirror? mirror = null)
{
    /// <summary>
    /// Waits for a job on behalf of an HTTP client, at most <paramref name="timeout"/>; a stopping server ends the wait
    /// (see <see cref="JobWaits"/>). Throws when the client goes away.
    /// </summary>
    public Task<JobWaitEnd> WaitAsync(Job job, TimeSpan timeout, CancellationToken aborted)
        => JobWaits.WaitAsync(job, timeout, lifetime.ApplicationStopping, aborted);

    /// <summary>
    /// Stores and queues a job; a full or closing queue rejects it and no job exists afterwards. The job is stored
    /// before any worker can see it, so an accepted prediction survives a restart.
    /// </summary>
    public async Task<(Job? Job, SubmitRejection Rejection)> SubmitAsync(JobSubmission submission)
    {
        if (channel.IsClosed)
        {
            return (null, SubmitRejection.ShuttingDown);
        }
        var model = catalog.Find(submission.Request.Model) ?? catalog.Default;
        if (queue.Depth >= queue.Capacity)
        {
            return Rejected(model, SubmitRejection.QueueFull);
        }
        var job = new Job(await store.NextSequenceAsync(), model, submission.Request, submission.Input, time.GetUtcNow(),
            TimeSpan.FromSeconds(queueOptions.Value.JobDeadlineSeconds))
        {
            OutputAsDataUri = submission.OutputAsDataUri,
            Webhook = submission.Webhook,
            WebhookEvents = submission.WebhookEvents,
            BaseUrl = submission.BaseUrl,
            Owner = submission.Owner,
        };
        // Listeners subscribe before the job is visible to a worker, so they see every event.
        foreach (var listener in listeners)
        {
            listener.OnCreated(job);
        }
        await store.AddAsync(job);
        if (!await queue.EnqueueAsync(job))
        {
            // Another request took the last place between the check above and now (or shutdown began): the job was
            // never accepted, so it is forgotten (a 429 creates no prediction).
            await store.ForgetAsync(job);
            return Rejected(model, channel.IsClosed ? SubmitRejection.ShuttingDown : SubmitRejection.QueueFull);
        }
        logger.LogInformation("Job {JobId} {Status}: model {Model}, {Width}x{Height}, {Steps} steps, {Outputs} outputs, queue {Depth}/{Capacity}",
            job.Id, "queued", model.Name, job.Request.Width, job.Request.Height, job.Request.Steps, job.Request.NumOutputs,
            queue.Depth, queue.Capacity);
        return (job, SubmitRejection.None);
    }

    /// <summary>
    /// Fails queued jobs past their deadline now, rather than when a busy worker reaches them; returns how many.
    /// The worker checks the deadline again when it dequeues, so nothing past it ever runs.
    /// </summary>
    public int ExpireOverdue()
    {
        var now = time.GetUtcNow();
        var expired = 0;
        foreach (var job in store.Queued())
        {
            if (now > job.Deadline && job.TryFail(DeadlineError(queueOptions.Value.JobDeadlineSeconds), now))
            {
                expired++;
                metrics.JobFinished(job);
                logger.LogInformation("Job {JobId} {Status}: model {Model}, {Steps} steps, queue {QueueSeconds:0.000} s: {Error}",
                    job.Id, "failed", job.Model.Name, job.Request.Steps, (now - job.CreatedAt).TotalSeconds, job.Error);
            }
        }
        return expired;
    }

    private (Job?, SubmitRejection) Rejected(ServedModel model, SubmitRejection rejection)
    {
        metrics.JobRejected();
        logger.LogWarning("Rejected a {Model} job: queue {State} ({Depth}/{Capacity})", model.Name,
            rejection == SubmitRejection.ShuttingDown ? "closed" : "full", queue.Depth, queue.Capacity);
        return (null, rejection);
    }

    public static string DeadlineError(int seconds)
        => $"the job waited in the queue longer than its deadline ({seconds} s) and was not run";

    /// <summary>Cancels a job (see <see cref="Job.Cancel"/>); logs the state change when it was still queued.</summary>
    public void Cancel(Job job)
    {
        var wasQueued = job.Status == JobStatus.Starting;
        job.Cancel(time.GetUtcNow());
        if (!job.RunsHere)
        {
            // Another process may have it (or take it any moment): tell whoever runs it.
            mirror?.RequestCancel(job);
        }
        if (wasQueued && job.Status == JobStatus.Canceled)
        {
            metrics.JobFinished(job);
            logger.LogInformation("Job {JobId} {Status}: model {Model}, canceled while queued after {QueueSeconds:0.000} s",
                job.Id, "canceled", job.Model.Name, (job.CompletedAt!.Value - job.CreatedAt).TotalSeconds);
        }
    }
}
