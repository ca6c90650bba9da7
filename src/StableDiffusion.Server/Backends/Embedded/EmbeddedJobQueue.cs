using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Backends.Embedded;

/// <summary>
/// One box: the queue is the workers' bounded channel itself. Jobs are stored before they are queued, so the
/// channel is never the only copy: at start <see cref="EmbeddedRecovery"/> queues again what the store holds unfinished.
/// </summary>
internal sealed class EmbeddedJobQueue(GenerationQueue channel) : IJobQueue
{
    public int Depth => channel.Depth;

    public int Capacity => channel.Capacity;

    public Task<bool> EnqueueAsync(Job job, CancellationToken cancellationToken = default) => Task.FromResult(channel.TryEnqueue(job));

    // The stored status is the claim: nothing else to acknowledge.
    public Task CompleteAsync(Job job, CancellationToken cancellationToken = default) => Task.CompletedTask;

    // Back in the channel for another attempt; once shutdown has closed it, the job stays stored as queued and the
    // next start queues it again.
    public Task ReleaseAsync(Job job, CancellationToken cancellationToken = default)
    {
        channel.TryEnqueue(job, force: true);
        return Task.CompletedTask;
    }
}
