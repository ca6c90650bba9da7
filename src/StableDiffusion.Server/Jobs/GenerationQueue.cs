using System.Threading.Channels;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Jobs;

/// <summary>The bounded channel between the HTTP front and the workers (Cog's queue, in process).</summary>
public sealed class GenerationQueue
{
    private readonly Channel<Job> _channel;

    public GenerationQueue(IOptions<QueueOptions> options)
    {
        Capacity = options.Value.Capacity;
        _channel = Channel.CreateBounded<Job>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
    }

    public int Capacity { get; }

    /// <summary>Jobs waiting for a worker (canceled ones included until a worker skips them).</summary>
    public int Depth => _channel.Reader.Count;

    /// <summary>True once shutdown has begun: nothing more is accepted.</summary>
    public bool IsClosed { get; private set; }

    public ChannelReader<Job> Reader => _channel.Reader;

    /// <summary>Writes the job unless the queue is full or closed; never waits.</summary>
    public bool TryEnqueue(Job job) => !IsClosed && _channel.Writer.TryWrite(job);

    public void Close()
    {
        IsClosed = true;
        _channel.Writer.TryComplete();
    }
}
