using System.Text.Json;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Backends.Redis;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>The stream queue against a real Redis: admission, claims, heartbeats, takeover, completion, release.</summary>
public sealed class RedisJobQueueTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    // One-second heartbeats: a claim goes stale after three seconds, short enough for tests.
    private readonly IOptions<StorageOptions> _storage = RedisFixture.Storage(heartbeatSeconds: 1);

    private RedisJobQueue NewQueue(int capacity = 10)
        => new(redis.Connection, _storage, Options.Create(new QueueOptions { Capacity = capacity }));

    [RedisFact]
    public async Task Enqueue_refuses_at_capacity_and_counts_running_jobs_against_it()
    {
        await using var queue = NewQueue(capacity: 2);
        Assert.True(await queue.EnqueueAsync("job-a", 1));
        Assert.True(await queue.EnqueueAsync("job-b", 1));

        var full = await queue.EnqueueAsync("job-c", 1);
        var claim = await queue.ClaimAsync("gpu-0");
        var stillFull = await queue.EnqueueAsync("job-c", 1);
        await queue.CompleteAsync("gpu-0", claim!);
        var room = await queue.EnqueueAsync("job-c", 1);

        Assert.False(full);
        Assert.False(stillFull); // a held job still occupies its slot: admission is queued + running
        Assert.True(room);
    }

    [RedisFact]
    public async Task Each_entry_is_claimed_by_one_consumer_in_order()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1);
        await queue.EnqueueAsync("job-b", 1);

        var first = await queue.ClaimAsync("gpu-0");
        var second = await queue.ClaimAsync("gpu-1");
        var none = await queue.ClaimAsync("gpu-0");

        Assert.Equal(("job-a", 1L), (first!.JobId, first.DeliveryCount));
        Assert.Equal("job-b", second!.JobId);
        Assert.Null(none);
    }

    [RedisFact]
    public async Task Claim_on_an_empty_queue_returns_null()
    {
        await using var queue = NewQueue();

        Assert.Null(await queue.ClaimAsync("gpu-0"));
        Assert.Null(await queue.TakeOverStaleAsync("gpu-0"));
        Assert.Equal(0, queue.Depth);
    }

    [RedisFact]
    public async Task Depth_counts_waiting_jobs_not_held_ones()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1);
        await queue.EnqueueAsync("job-b", 1);
        await queue.EnqueueAsync("job-c", 1);

        await queue.ClaimAsync("gpu-0");

        Assert.Equal(2, queue.Depth);
        Assert.Equal((3L, 1L), await queue.CountsAsync());
    }

    [RedisFact]
    public async Task Job_ids_lists_waiting_and_held_jobs_oldest_first()
    {
        await using var queue = NewQueue();
        Assert.Empty(await queue.JobIdsAsync());
        await queue.EnqueueAsync("job-a", 1);
        await queue.EnqueueAsync("job-b", 1);
        await queue.EnqueueAsync("job-c", 1);
        var held = await queue.ClaimAsync("gpu-0");
        await queue.CompleteAsync("gpu-0", (await queue.ClaimAsync("gpu-0"))!);

        Assert.Equal(["job-a", "job-c"], await queue.JobIdsAsync());
        Assert.Equal("job-a", held!.JobId);
    }

    [RedisFact]
    public async Task Heartbeats_keep_a_claim_from_being_taken_over()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1);
        var claim = await queue.ClaimAsync("gpu-0");
        var minIdle = TimeSpan.FromMilliseconds(600);

        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(200);
            Assert.True(await queue.HeartbeatAsync("gpu-0", claim!));
            Assert.Null(await queue.TakeOverStaleAsync("gpu-1", minIdle));
        }
    }

    [RedisFact]
    public async Task A_claim_idle_for_three_heartbeats_is_taken_over_with_delivery_count_2()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1);
        var first = await queue.ClaimAsync("gpu-0");
        Assert.Null(await queue.TakeOverStaleAsync("gpu-1")); // fresh: not stale yet

        await Task.Delay(queue.StaleAfter + TimeSpan.FromMilliseconds(300));
        var taken = await queue.TakeOverStaleAsync("gpu-1");

        Assert.Equal(TimeSpan.FromSeconds(3), queue.StaleAfter);
        Assert.NotNull(taken);
        Assert.Equal((first!.JobId, first.EntryId, 2L), (taken.JobId, taken.EntryId, taken.DeliveryCount));
    }

    [RedisFact]
    public async Task A_worker_that_was_taken_over_can_no_longer_renew_complete_or_release()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1);
        var stale = await queue.ClaimAsync("gpu-0");
        var taken = await queue.TakeOverStaleAsync("gpu-1", TimeSpan.Zero);

        Assert.False(await queue.HeartbeatAsync("gpu-0", stale!));
        Assert.False(await queue.CompleteAsync("gpu-0", stale!));
        Assert.False(await queue.ReleaseAsync("gpu-0", stale!));

        Assert.Equal((1L, 1L), await queue.CountsAsync()); // still held, by gpu-1 alone
        Assert.True(await queue.HeartbeatAsync("gpu-1", taken!));
        Assert.True(await queue.CompleteAsync("gpu-1", taken!));
    }

    [RedisFact]
    public async Task Complete_removes_the_entry()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1);
        var claim = await queue.ClaimAsync("gpu-0");

        var completed = await queue.CompleteAsync("gpu-0", claim!);

        Assert.True(completed);
        Assert.Equal((0L, 0L), await queue.CountsAsync());
        Assert.Null(await queue.TakeOverStaleAsync("gpu-1", TimeSpan.Zero));
        Assert.Null(await queue.ClaimAsync("gpu-1"));
    }

    [RedisFact]
    public async Task Release_puts_the_job_back_for_any_worker()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1);
        var claim = await queue.ClaimAsync("gpu-0");

        var released = await queue.ReleaseAsync("gpu-0", claim!);
        var again = await queue.ClaimAsync("gpu-1");

        Assert.True(released);
        Assert.Equal("job-a", again!.JobId);
        Assert.NotEqual(claim!.EntryId, again.EntryId);
        Assert.Equal(1, again.DeliveryCount);
        Assert.Equal((1L, 1L), await queue.CountsAsync());
    }

    [RedisFact]
    public async Task Job_level_complete_and_release_find_the_claim_this_process_holds()
    {
        await using var queue = NewQueue();
        var job = NewJob();
        var other = NewJob();
        await queue.EnqueueAsync(job);
        await queue.EnqueueAsync(other);
        var claim = await queue.ClaimAsync("gpu-0");
        var otherClaim = await queue.ClaimAsync("gpu-0");
        Assert.Equal(claim, queue.HeldClaim(job.Id));

        await queue.CompleteAsync(job);
        await queue.ReleaseAsync(other);

        Assert.Null(queue.HeldClaim(job.Id));
        Assert.Equal((1L, 0L), await queue.CountsAsync());
        Assert.Equal(other.Id, (await queue.ClaimAsync("gpu-1"))!.JobId);
        Assert.NotEqual(otherClaim!.EntryId, queue.HeldClaim(other.Id)!.EntryId);
    }

    [RedisFact]
    public async Task Claim_next_wakes_on_enqueue_without_waiting_for_its_poll()
    {
        await using var queue = NewQueue();
        await using var producer = NewQueue();
        var waiting = queue.ClaimNextAsync("gpu-0", pollInterval: TimeSpan.FromMinutes(5));
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);

        await producer.EnqueueAsync("job-a", 1);
        var claim = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("job-a", claim.JobId);
    }

    [RedisFact]
    public async Task Claim_next_takes_over_a_stale_claim_by_polling()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1);
        await queue.ClaimAsync("gpu-0"); // and gpu-0 dies: no heartbeat

        var claim = await queue.ClaimNextAsync("gpu-1", pollInterval: TimeSpan.FromMilliseconds(250)).WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(("job-a", 2L), (claim.JobId, claim.DeliveryCount));
    }

    [RedisFact]
    public async Task Claim_next_stops_when_canceled()
    {
        await using var queue = NewQueue();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.ClaimNextAsync("gpu-0", TimeSpan.FromMinutes(5), cancel.Token));
    }

    private static Job NewJob() => new(1, new ServedModel("demo", "local", "/nowhere", null, IsDemo: true),
        new GenerationRequest { Model = "demo", Settings = new() { Prompt = "x", Seed = 1 }, Width = 64, Height = 64 },
        JsonDocument.Parse("{}").RootElement, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
}
