using Microsoft.Extensions.Options;
using StableDiffusion.Server.Backends.Redis;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>Claiming a batch from the stream: the compatible run of entries right behind the last claim.</summary>
public sealed class RedisBatchClaimTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private RedisJobQueue NewQueue()
        => new(redis.Connection, RedisFixture.Storage(heartbeatSeconds: 1), Options.Create(new QueueOptions { Capacity = 20 }));

    [RedisFact]
    public async Task Compatible_jobs_behind_the_claimed_one_are_claimed_until_an_incompatible_one()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1, "tiny|64", 1);
        await queue.EnqueueAsync("job-b", 1, "tiny|64", 1);
        await queue.EnqueueAsync("job-c", 1, "tiny|64", 2);
        await queue.EnqueueAsync("job-d", 1, "tiny|128", 1);
        await queue.EnqueueAsync("job-e", 1, "tiny|64", 1);

        var lead = await queue.ClaimAsync("gpu-0");
        var more = await queue.ClaimCompatibleAsync("gpu-0", "tiny|64", 3);
        var next = await queue.ClaimAsync("gpu-1");

        Assert.Equal("job-a", lead!.JobId);
        Assert.Equal(["job-b", "job-c"], more.Select(c => c.JobId));
        Assert.Equal("job-d", next!.JobId); // the batch did not overtake it, and it is still there for others
        Assert.Equal((5L, 4L), await queue.CountsAsync());
        Assert.NotNull(queue.HeldClaim("job-c"));
    }

    [RedisFact]
    public async Task A_batch_stops_before_a_job_whose_images_do_not_fit()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1, "k", 1);
        await queue.EnqueueAsync("job-b", 1, "k", 1);
        await queue.EnqueueAsync("job-c", 1, "k", 4);
        await queue.EnqueueAsync("job-d", 1, "k", 1);

        await queue.ClaimAsync("gpu-0");
        var more = await queue.ClaimCompatibleAsync("gpu-0", "k", 3);

        Assert.Equal(["job-b"], more.Select(c => c.JobId));
        Assert.Equal("job-c", (await queue.ClaimAsync("gpu-0"))!.JobId);
    }

    [RedisFact]
    public async Task Entries_without_a_batch_key_are_never_claimed_as_a_batch()
    {
        await using var queue = NewQueue();
        await queue.EnqueueAsync("job-a", 1);
        await queue.EnqueueAsync("job-b", 1);

        await queue.ClaimAsync("gpu-0");

        Assert.Empty(await queue.ClaimCompatibleAsync("gpu-0", "", 3));
        Assert.Equal(1, queue.Depth);
    }
}
