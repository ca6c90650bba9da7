using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Worker;

namespace StableDiffusion.Server.Tests.Worker;

/// <summary>The bounded CPU stage after the device: back-pressure when full, inline when off, drained at stop.</summary>
public sealed class PostProcessorTests
{
    private static PostProcessor Create(int concurrency, int capacity) =>
        new(Options.Create(new PostProcessingOptions { Concurrency = concurrency, Capacity = capacity }), NullLogger<PostProcessor>.Instance);

    [Fact]
    public async Task A_full_stage_makes_the_worker_wait_until_a_consumer_frees_a_place()
    {
        var stage = Create(concurrency: 1, capacity: 1);
        await stage.StartAsync(CancellationToken.None);
        var started = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        var ran = new List<int>();
        await stage.EnqueueAsync(async () => { started.SetResult(); await gate.Task; ran.Add(1); });
        await started.Task; // the one consumer is busy
        await stage.EnqueueAsync(() => { ran.Add(2); return Task.CompletedTask; }); // takes the one place

        var third = stage.EnqueueAsync(() => { ran.Add(3); return Task.CompletedTask; });

        Assert.False(third.IsCompleted);
        Assert.Equal(3, stage.Pending);
        gate.SetResult();
        await third;
        await stage.StopAsync(CancellationToken.None);
        Assert.Equal([1, 2, 3], ran);
        Assert.Equal(0, stage.Pending);
    }

    [Fact]
    public async Task With_concurrency_zero_the_ending_runs_before_enqueue_returns()
    {
        var stage = Create(concurrency: 0, capacity: 1);
        await stage.StartAsync(CancellationToken.None);
        var ran = false;

        await stage.EnqueueAsync(() => { ran = true; return Task.CompletedTask; });

        Assert.True(ran);
    }

    [Fact]
    public async Task Stop_finishes_every_ending_handed_over_and_later_ones_run_inline()
    {
        var stage = Create(concurrency: 2, capacity: 8);
        await stage.StartAsync(CancellationToken.None);
        var ran = 0;
        for (var i = 0; i < 6; i++)
        {
            await stage.EnqueueAsync(async () => { await Task.Yield(); Interlocked.Increment(ref ran); });
        }

        await stage.StopAsync(CancellationToken.None);
        await stage.EnqueueAsync(() => { Interlocked.Increment(ref ran); return Task.CompletedTask; });

        Assert.Equal(7, ran);
    }

    [Fact]
    public async Task A_throwing_ending_does_not_stop_the_consumer()
    {
        var stage = Create(concurrency: 1, capacity: 2);
        await stage.StartAsync(CancellationToken.None);
        var ran = false;

        await stage.EnqueueAsync(() => throw new InvalidOperationException("boom"));
        await stage.EnqueueAsync(() => { ran = true; return Task.CompletedTask; });
        await stage.StopAsync(CancellationToken.None);

        Assert.True(ran);
    }
}
