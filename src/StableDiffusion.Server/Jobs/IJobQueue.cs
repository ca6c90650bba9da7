namespace StableDiffusion.Server.Jobs;

/// <summary>
/// The queue behind the workers' bounded channels (DESIGN §9). Embedded: the channel itself, with the job persisted
/// first. Redis: a stream with one consumer group; a claimer per worker fills that worker's channel, heartbeats its
/// claims, and takes over claims gone stale.
/// </summary>
internal interface IJobQueue
{
    /// <summary>Jobs waiting for a worker, cluster-wide.</summary>
    int Depth { get; }

    int Capacity { get; }

    /// <summary>Queues a stored job; false when the queue is full or closed (nothing is queued then).</summary>
    Task<bool> EnqueueAsync(Job job, CancellationToken cancellationToken = default);

    /// <summary>The worker is done with the job (any final status): the claim goes.</summary>
    Task CompleteAsync(Job job, CancellationToken cancellationToken = default);

    /// <summary>Shutdown: hands a job this worker holds back to the queue, to run again elsewhere or after restart.</summary>
    Task ReleaseAsync(Job job, CancellationToken cancellationToken = default);
}
