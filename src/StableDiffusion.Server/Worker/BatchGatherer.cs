using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Worker;

/// <summary>The jobs a worker took for one run: <see cref="Together"/> share one UNet batch (the first is the job it
/// took first); <see cref="Apart"/> run alone after them (finished while queued, or taken in a race with another
/// device's worker and not compatible after all).</summary>
internal sealed record GatheredJobs(IReadOnlyList<Job> Together, IReadOnlyList<Job> Apart)
{
    public IEnumerable<Job> All => Together.Concat(Apart);
}

/// <summary>
/// Dynamic batching: after a worker takes a job it also takes the compatible jobs queued right behind it
/// (<see cref="JobBatchKey"/>), up to <c>Worker:MaxBatchImages</c> images. Only the run of compatible jobs at the head
/// of the queue is taken, so no job overtakes an older one. When at least one compatible job was queued (concurrent
/// load), it waits up to <c>Worker:BatchWindowMs</c> for more; a job with nothing compatible behind it starts at once.
/// </summary>
internal sealed class BatchGatherer(GenerationQueue queue, IOptions<WorkerOptions> options)
{
    public async Task<GatheredJobs> GatherAsync(Job first, int maxImages, CancellationToken cancellationToken)
    {
        var together = new List<Job> { first };
        var apart = new List<Job>();
        var key = JobBatchKey.Of(first);
        int images = first.Request.NumOutputs;
        if (key is null || images >= maxImages || TakeQueued(key, maxImages, together, apart, ref images) == 0)
        {
            return new GatheredJobs(together, apart);
        }

        // Compatible work is queued: give the batch a short window to fill up. Jobs already taken are never dropped
        // (a stop during the window ends the wait, not the gathering).
        var window = TimeSpan.FromMilliseconds(options.Value.BatchWindowMs);
        var deadline = DateTime.UtcNow + window;
        while (images < maxImages && deadline - DateTime.UtcNow is { Ticks: > 0 } remaining)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(remaining);
            try
            {
                if (!await queue.Reader.WaitToReadAsync(wait.Token))
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (TakeQueued(key, maxImages, together, apart, ref images) == 0)
            {
                break; // the head of the queue is not compatible: start now
            }
        }

        return new GatheredJobs(together, apart);
    }

    /// <summary>Takes jobs from the head of the queue while they are compatible and fit; returns how many it took.</summary>
    private int TakeQueued(string key, int maxImages, List<Job> together, List<Job> apart, ref int images)
    {
        int taken = 0;
        int fill = images;
        bool Fits(Job job) => job.Status.IsTerminal() || (JobBatchKey.Of(job) == key && fill + job.Request.NumOutputs <= maxImages);
        while (images < maxImages && queue.TryTakeIf(Fits, out var job))
        {
            taken++;
            // Another device's worker may read between the look and the read: check what actually came.
            if (!job.Status.IsTerminal() && Fits(job))
            {
                together.Add(job);
                images += job.Request.NumOutputs;
                fill = images;
            }
            else
            {
                apart.Add(job);
            }
        }

        return taken;
    }
}
