using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Telemetry;
using StableDiffusion.Server.Worker;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>
/// Fills this process's worker channel from the shared stream (DESIGN §9): it claims one job per idle device, with
/// the compatible jobs queued right behind it up to the device's batch (<c>Worker:MaxBatchImages</c>),
/// heartbeats its claims, takes over claims whose worker went silent, stops a job that keeps being interrupted at
/// <c>Storage:MaxAttempts</c>, carries the job's events to the other replicas and their cancels to the job, and
/// publishes the models this process has loaded.
/// </summary>
internal sealed class RedisClaimer(
    RedisJobQueue queue,
    IJobEventBus bus,
    JobStore store,
    GenerationQueue channel,
    ModelCatalog catalog,
    RedisModelRegistry registry,
    IEnumerable<IJobListener> listeners,
    IServiceProvider services,
    ServerMetrics metrics,
    IOptions<StorageOptions> storage,
    IOptions<ModelsOptions> models,
    IOptions<WorkerOptions> worker,
    TimeProvider time,
    ILogger<RedisClaimer> logger) : BackgroundService
{
    private readonly string _consumer = $"{Environment.MachineName}-{Environment.ProcessId}";
    private readonly ConcurrentDictionary<string, (Job Job, RedisClaim Claim)> _held = new();
    // Per held job: frees its device slot once (device part done, or the job left).
    private readonly ConcurrentDictionary<string, Action> _slots = new();
    // Jobs whose events this process already forwards (a retried job comes back to the same object).
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Job, object> _wired = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var devices = models.Value.Devices is { Count: > 0 } d ? d.Distinct().Count() : 1;
        using var slots = new SemaphoreSlim(devices, devices);
        using var cancels = bus.OnCancelRequested(OnCancelRequested);
        var runner = services.GetService<JobRunner>();
        if (runner is not null)
        {
            runner.DeviceFreed += OnDeviceFreed;
        }
        var heartbeat = HeartbeatAsync(stoppingToken);
        try
        {
            // Claim only once loading is over here: a job claimed while its model loads would wait on this machine.
            // Resolved here: the hosted services include this one.
            var workers = services.GetServices<IHostedService>().OfType<GenerationWorker>().ToArray();
            while (workers.Any(w => w.State == WorkerState.Loading))
            {
                await Task.Delay(200, stoppingToken);
            }
            foreach (var model in catalog.Models)
            {
                if (catalog.InfoOf(model) is { } info)
                {
                    await registry.PublishAsync(info, stoppingToken);
                }
            }
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                var claim = await queue.ClaimNextAsync(_consumer, queue.Heartbeat, stoppingToken);
                await TakeWithCompatibleAsync(claim, slots);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (runner is not null)
            {
                runner.DeviceFreed -= OnDeviceFreed;
            }
        }
        await heartbeat;
    }

    /// <summary>Takes the claimed job and the compatible ones queued behind it into the worker's channel, back to back.
    /// They share the device slot, which frees when the last of them leaves the device.</summary>
    private async Task TakeWithCompatibleAsync(RedisClaim claim, SemaphoreSlim slots)
    {
        var slot = new SharedSlot(slots);
        var taken = new List<Job>();
        if (await TakeAsync(claim, slot, taken) is { } lead && JobBatchKey.Of(lead) is { } key)
        {
            var left = worker.Value.BatchImagesFor(catalog.InfoOf(lead.Model)?.ExecutionProvider) - lead.Request.NumOutputs;
            foreach (var more in left > 0 ? await queue.ClaimCompatibleAsync(_consumer, key, left) : [])
            {
                await TakeAsync(more, slot, taken);
            }
        }
        channel.EnqueueTogether(taken);
        slot.Release();
    }

    /// <summary>One device slot shared by the jobs claimed together: it frees when the last of them leaves the device.
    /// The claiming itself holds it too, so it cannot free while jobs are still being added.</summary>
    private sealed class SharedSlot(SemaphoreSlim slots)
    {
        private int _holders = 1;

        public void Add() => Interlocked.Increment(ref _holders);

        public void Release()
        {
            if (Interlocked.Decrement(ref _holders) == 0)
            {
                slots.Release();
            }
        }
    }

    /// <summary>Turns a claim into a job for the worker's channel (added to <paramref name="taken"/>); null when there was
    /// nothing to run.</summary>
    private async Task<Job?> TakeAsync(RedisClaim claim, SharedSlot slot, List<Job> taken)
    {
        metrics.Claimed(takenOver: claim.DeliveryCount > 1);
        var record = await store.Predictions.GetAsync(claim.JobId);
        if (record is null || record.Status.IsTerminal())
        {
            await queue.CompleteAsync(_consumer, claim); // canceled while queued, or expired
            return null;
        }
        var job = store.Live(record.Id);
        var fresh = job is null;
        job ??= Job.FromRecord(record, catalog.Find(record.Model) ?? catalog.Default);
        if (fresh)
        {
            store.Follow(job);
            foreach (var listener in listeners)
            {
                listener.OnCreated(job); // webhooks are sent by the process that owns the transitions
            }
        }
        ForwardEvents(job);
        if (record.Status == JobStatus.Processing)
        {
            // Its worker stopped mid-run (killed, cut off): this is the next attempt, if there may be one.
            if (record.Attempt >= storage.Value.MaxAttempts)
            {
                job.TryFail(Embedded.EmbeddedRecovery.PoisonError(record.Attempt), time.GetUtcNow());
                metrics.Poisoned();
                logger.LogWarning("Job {JobId} failed: interrupted on each of its {Attempts} attempts", job.Id, record.Attempt);
                await queue.CompleteAsync(_consumer, claim);
                return null;
            }
            job.Requeue($"Attempt {record.Attempt} was interrupted (its worker stopped); running it again as attempt {record.Attempt + 1}");
        }
        slot.Add();
        Hold(job, claim, slot.Release);
        taken.Add(job);
        return job;
    }

    /// <summary>Marks the job as run here: its events go to the bus; its device slot frees when the device part is done
    /// (<see cref="JobRunner.DeviceFreed"/>: the ending runs in the post-processing stage, claim still renewed) or when it
    /// leaves before that.</summary>
    private void Hold(Job job, RedisClaim claim, Action release)
    {
        job.MarkRunsHere();
        _held[job.Id] = (job, claim);
        var released = 0;
        void FreeSlot()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                release();
            }
        }
        _slots[job.Id] = FreeSlot;
        IDisposable? subscription = null;
        subscription = job.Subscribe(e =>
        {
            // The job leaves this machine: finished, or queued again (a retry, a shutdown).
            if (e is JobCompleted or JobRequeued)
            {
                _held.TryRemove(job.Id, out _);
                _slots.TryRemove(job.Id, out _);
                FreeSlot();
                subscription?.Dispose();
            }
        }).Subscription;
    }

    private void OnDeviceFreed(Job job)
    {
        if (_slots.TryRemove(job.Id, out var free))
        {
            free();
        }
    }

    /// <summary>Sends the job's events, from now on, to the replicas that follow it (once per job object).</summary>
    private void ForwardEvents(Job job)
    {
        if (!_wired.TryGetValue(job, out _))
        {
            _wired.Add(job, this);
            job.Subscribe(e =>
            {
                if (!job.ApplyingRemote)
                {
                    bus.Publish(job.Id, e);
                }
            });
        }
    }

    /// <summary>Renews every claim held; a claim another worker took over stops its job here.</summary>
    private async Task HeartbeatAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(queue.Heartbeat);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var (job, claim) in _held.Values.ToArray())
                {
                    if (!await queue.HeartbeatAsync(_consumer, claim))
                    {
                        logger.LogWarning("Job {JobId}: the claim was taken over by another worker; stopping it here", job.Id);
                        job.Cancel(time.GetUtcNow());
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Claims stay renewed during the shutdown grace: the job is still running here until it is handed back.
        while (!_held.IsEmpty)
        {
            foreach (var (_, claim) in _held.Values.ToArray())
            {
                await queue.HeartbeatAsync(_consumer, claim);
            }
            await Task.Delay(queue.Heartbeat / 2);
        }
    }

    private void OnCancelRequested(string jobId)
    {
        if (_held.TryGetValue(jobId, out var held))
        {
            held.Job.Cancel(time.GetUtcNow());
        }
    }
}
