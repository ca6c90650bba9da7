using Microsoft.Extensions.Options;
using StableDiffusion.Server.Backends.Redis;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;
using StackExchange.Redis;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>
/// <c>kill -9</c> of Redis and a restart on the same directory: with AOF fsync'd on every write, everything the
/// backend was told "OK" for is still there — queued entries, held claims, records, sequences, files.
/// </summary>
public sealed class RedisPersistenceTests
{
    private readonly IOptions<StorageOptions> _storage = RedisFixture.Storage(heartbeatSeconds: 1);
    private readonly IOptions<ResultsOptions> _results = Options.Create(new ResultsOptions { RetentionSeconds = 600 });
    private readonly IOptions<QueueOptions> _queue = Options.Create(new QueueOptions { Capacity = 10 });

    [RedisFact]
    public async Task Queue_records_and_files_survive_kill_9_and_restart()
    {
        await using var server = await RedisServer.StartAsync();
        var (queued, running, finished, output) = await WriteStateAsync(server);

        server.Kill();
        Assert.False(server.IsRunning);
        await server.RestartAsync();

        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var store = new RedisPredictionStore(connection, _storage, _results);
        await using var queue = new RedisJobQueue(connection, _storage, _queue);
        Assert.Equal(JobStatus.Starting, (await store.GetAsync(queued.Id))!.Status);
        Assert.Equal((JobStatus.Processing, 1), ((await store.GetAsync(running.Id))!.Status, (await store.GetAsync(running.Id))!.Attempt));
        Assert.Equal(JobStatus.Succeeded, (await store.GetAsync(finished.Id))!.Status);
        Assert.Equal([running.Id, queued.Id], (await store.UnfinishedAsync()).Select(r => r.Id));
        Assert.Equal([queued.Id, running.Id, finished.Id], (await store.ListAsync(null, null, 10)).Page.Select(r => r.Id));
        Assert.Equal("out-0.png", (await store.GetFileAsync(output.Id))!.FileName);
        Assert.Equal(4, await store.NextSequenceAsync());
        // The worker that held "running" died with Redis' old clients; its claim is still pending and goes to another.
        Assert.Equal((2L, 1L), await queue.CountsAsync());
        var taken = await queue.TakeOverStaleAsync("gpu-1", TimeSpan.Zero);
        Assert.Equal((running.Id, 2L), (taken!.JobId, taken.DeliveryCount));
        Assert.Equal(queued.Id, (await queue.ClaimAsync("gpu-1"))!.JobId);
    }

    [RedisFact]
    public async Task A_client_connected_before_the_crash_carries_on_after_the_restart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var store = new RedisPredictionStore(connection, _storage, _results);
        await using var queue = new RedisJobQueue(connection, _storage, _queue);
        var record = Records.New(await store.NextSequenceAsync());
        await store.CreateAsync(record);
        await queue.EnqueueAsync(record.Id, 1);

        server.Kill();
        await server.RestartAsync();

        // abortConnect=false: the multiplexer reconnects by itself; the first calls may still see the old socket fail.
        var claim = await RetryAsync(() => queue.ClaimAsync("gpu-0"));
        Assert.Equal(record.Id, claim!.JobId);
        Assert.True(await store.TryUpdateAsync(record.Started(1), expectedAttempt: 0));
    }

    private async Task<(JobRecord Queued, JobRecord Running, JobRecord Finished, StoredFile Output)> WriteStateAsync(RedisServer server)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var store = new RedisPredictionStore(connection, _storage, _results);
        await using var queue = new RedisJobQueue(connection, _storage, _queue);
        var finished = Records.New(await store.NextSequenceAsync());
        var running = Records.New(await store.NextSequenceAsync());
        var queued = Records.New(await store.NextSequenceAsync());
        foreach (var record in new[] { finished, running, queued })
        {
            await store.CreateAsync(record);
        }
        var output = finished.Output();
        await store.SaveFileAsync(output);
        await store.TryUpdateAsync(finished.Succeeded(DateTimeOffset.UtcNow, output), expectedAttempt: 0);
        await queue.EnqueueAsync(running.Id, 1);
        await queue.EnqueueAsync(queued.Id, 1);
        Assert.Equal(running.Id, (await queue.ClaimAsync("gpu-0"))!.JobId);
        await store.TryUpdateAsync(running.Started(1), expectedAttempt: 0);
        return (queued, running, finished, output);
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                return await action();
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
