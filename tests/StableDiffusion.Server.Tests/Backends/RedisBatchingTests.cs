using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>Dynamic batching with the Redis backend: the claimer takes the compatible jobs behind the claimed one.</summary>
public sealed class RedisBatchingTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [RedisFact]
    public async Task Compatible_jobs_queued_on_redis_are_claimed_and_run_as_one_batch()
    {
        await using var factory = new ServerFactory(new()
        {
            ["Storage:Backend"] = "Redis",
            ["Storage:Redis"] = redis.Server.ConnectionString,
            ["Storage:RedisPrefix"] = "batch" + Guid.NewGuid().ToString("N")[..8] + ":",
            ["Storage:HeartbeatSeconds"] = "1",
            ["Outputs:SigningKey"] = "test-signing-key-for-the-batching-test",
            ["Worker:MaxBatchImages"] = "3",
            ["Worker:BatchWindowMs"] = "0",
        });
        var client = await factory.ReadyClientAsync();

        var done = await BatchingTests.QueuedBehindBlockerAsync(client,
            Wire.Input(seed: 1), Wire.Input(seed: 2), Wire.Input(seed: 3), Wire.Input(seed: 4), Wire.Input(steps: 3));

        Assert.All(done, job => Assert.Equal("succeeded", job.Status()));
        for (int i = 0; i < 3; i++)
        {
            Assert.Contains("Batched with 2 other job(s): 3 images per UNet call", done[i]["logs"]!.GetValue<string>());
        }
        Assert.DoesNotContain("Batched with", done[3]["logs"]!.GetValue<string>()); // the batch was full
        Assert.DoesNotContain("Batched with", done[4]["logs"]!.GetValue<string>()); // other steps
    }
}
