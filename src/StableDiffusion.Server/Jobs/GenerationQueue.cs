using System.Threading.Channels;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Telemetry;

namespace StableDiffusion.Server.Jobs;

/// <summary>The bounded channel between the HTTP front and the workers (Cog's queue, in process).</summary>
/// <remarks>
/// Admission counts the jobs still waiting: a job canceled or expired while queued gives its slot back at once, though
/// it stays in the channel until a worker skips it (a channel cannot remove from its middle). The channel itself has
/// room for as many such leftovers again, so only more than <see cref="Capacity"/> queued cancellations during one
/// running job could make it refuse early (a 429, never a lost job).
/// </remarks>
internal sealed class GenerationQueue : IQueueGauge
{
    private readonly Channel<Job> _channel;
    private readonly Lock _together = new();
    private int _waiting;

    public GenerationQueue(IOptions<QueueOptions> options)
    {
        Capacity = options.Value.Capacity;
        _channel = Channel.CreateBounded<Job>(new BoundedChannelOptions(checked(Capacity * 2))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
    }

    public int Capacity { get; }

    /// <summary>Jobs waiting for a worker (not those canceled or expired while queued).</summary>
    public int Depth => Volatile.Read(ref _waiting);

    /// <summary>True once shutdown has begun: nothing more is accepted.</summary>
    public bool IsClosed { get; private set; }

    public ChannelReader<Job> Reader => _channel.Reader;

    /// <summary>Writes the job unless the queue is full or closed; never waits. <paramref name="force"/> ignores the
    /// capacity (jobs a restart queues again were admitted before).</summary>
    public bool TryEnqueue(Job job, bool force = false)
    {
        if (IsClosed)
        {
            return false;
        }

        if (Interlocked.Increment(ref _waiting) > Capacity && !force)
        {
            Interlocked.Decrement(ref _waiting);
            return false;
        }

        job.OnLeftQueue(() => Interlocked.Decrement(ref _waiting));
        if (_channel.Writer.TryWrite(job))
        {
            return true;
        }

        job.OnLeftQueue(null);
        Interlocked.Decrement(ref _waiting);
        return false;
    }

    /// <summary>Writes jobs claimed together back to back (force, as <see cref="TryEnqueue"/>): a worker gathering a batch
    /// with <see cref="TryTakeIf"/> sees all of them or waits until they are all written.</summary>
    public void EnqueueTogether(IReadOnlyList<Job> jobs)
    {
        lock (_together)
        {
            foreach (var job in jobs)
            {
                TryEnqueue(job, force: true);
            }
        }
    }

    /// <summary>Reads the job at the head of the channel if <paramref name="accept"/> takes it. Another reader may read
    /// between the look and the read, so the job read is returned for the caller to check again.</summary>
    public bool TryTakeIf(Func<Job, bool> accept, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Job? job)
    {
        lock (_together)
        {
            if (_channel.Reader.TryPeek(out var next) && accept(next) && _channel.Reader.TryRead(out job))
            {
                return true;
            }
        }
        job = null;
        return false;
    }

    public void Close()
    {
        IsClosed = true;
        _channel.Writer.TryComplete();
    }
}
