using System.Threading.Channels;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Worker;

/// <summary>
/// The bounded CPU stage after the device: a job's ending (watermark, encode, store, completion) runs here on one of
/// <see cref="PostProcessingOptions.Concurrency"/> consumers while its worker takes the next job. A full stage makes the
/// worker wait. Registered before the workers, so it stops after them and finishes every job they handed it.
/// </summary>
internal sealed class PostProcessor(IOptions<PostProcessingOptions> options, ILogger<PostProcessor> logger) : IHostedService
{
    private readonly Channel<Func<Task>> _work = Channel.CreateBounded<Func<Task>>(
        new BoundedChannelOptions(options.Value.Capacity) { FullMode = BoundedChannelFullMode.Wait });
    private Task[] _consumers = [];
    private int _pending;

    /// <summary>Job endings waiting or running.</summary>
    public int Pending => Volatile.Read(ref _pending);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _consumers = [.. Enumerable.Range(0, options.Value.Concurrency).Select(_ => Task.Run(ConsumeAsync, CancellationToken.None))];
        return Task.CompletedTask;
    }

    /// <summary>Hands <paramref name="ending"/> (which must not throw) to a consumer, waiting while the stage is full; runs
    /// it here when the stage is off or already stopped.</summary>
    public async Task EnqueueAsync(Func<Task> ending)
    {
        Interlocked.Increment(ref _pending);
        if (_consumers.Length == 0)
        {
            await RunAsync(ending);
            return;
        }

        try
        {
            await _work.Writer.WriteAsync(ending, CancellationToken.None);
        }
        catch (ChannelClosedException)
        {
            await RunAsync(ending); // a worker that outlived the host's stop: finish the job on its own thread
        }
    }

    /// <summary>Finishes what was handed over (bounded by the host's shutdown timeout).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _work.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_consumers).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Shutdown timed out with {Pending} job(s) still in post-processing; they run again after a restart or on another worker", Pending);
        }
    }

    private async Task ConsumeAsync()
    {
        await foreach (var ending in _work.Reader.ReadAllAsync())
        {
            await RunAsync(ending);
        }
    }

    private async Task RunAsync(Func<Task> ending)
    {
        try
        {
            await ending();
        }
        catch (Exception e)
        {
            logger.LogError(e, "A job's post-processing failed outside its own error handling");
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }
}
