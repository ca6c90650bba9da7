using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Backends.Redis;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;
using StackExchange.Redis;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>Events and cancels between two processes' connections, through a real Redis.</summary>
public sealed class RedisEventBusTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly IOptions<StorageOptions> _storage = RedisFixture.Storage();
    // The follower has its own connection, as an API replica on another machine would.
    private ConnectionMultiplexer? _other;

    public async Task InitializeAsync()
    {
        if (RedisServer.MissingReason is null || RedisServer.IsCi)
        {
            _other = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        }
    }

    public async Task DisposeAsync()
    {
        if (_other is not null)
        {
            await _other.DisposeAsync();
        }
    }

    private RedisEventBus Worker => new(redis.Connection, _storage, NullLogger<RedisEventBus>.Instance);

    private RedisEventBus Follower => new(_other!, _storage, NullLogger<RedisEventBus>.Instance);

    [RedisFact]
    public async Task Events_arrive_in_order_and_typed_on_another_connection()
    {
        var now = DateTimeOffset.UtcNow;
        var file = new StoredFile("file-1", "job-1", "out-0.png", "image/png", 0, now);
        var sent = new List<JobEvent> { new JobStarted(now, 2) };
        for (var step = 1; step <= 50; step++)
        {
            sent.Add(new JobProgress(step, 50, TimeSpan.FromMilliseconds(step * 20)));
        }
        sent.Add(new JobLog("Using seed: 42"));
        sent.Add(new JobOutput([file]));
        sent.Add(new JobCompleted(JobStatus.Succeeded, null, now));
        var received = new ConcurrentQueue<JobEvent>();
        var all = new TaskCompletionSource();
        using var subscription = Follower.Subscribe("job-1", e =>
        {
            received.Enqueue(e);
            if (received.Count == sent.Count)
            {
                all.TrySetResult();
            }
        });

        var worker = Worker;
        foreach (var e in sent)
        {
            worker.Publish("job-1", e);
        }
        await all.Task.WaitAsync(Patience);

        var got = received.ToArray();
        Assert.Equal(sent.Where(e => e is not JobOutput), got.Where(e => e is not JobOutput));
        var output = Assert.IsType<JobOutput>(got[^2]);
        Assert.Equal(("file-1", "job-1", "out-0.png", "image/png"), (output.Files[0].Id, output.Files[0].JobId, output.Files[0].FileName, output.Files[0].ContentType));
    }

    [RedisFact]
    public async Task A_follower_hears_only_its_job_and_nothing_after_unsubscribing()
    {
        var received = new ConcurrentQueue<JobEvent>();
        var first = new TaskCompletionSource();
        var subscription = Follower.Subscribe("job-1", e => { received.Enqueue(e); first.TrySetResult(); });
        var worker = Worker;

        worker.Publish("job-2", new JobLog("not for job-1"));
        worker.Publish("job-1", new JobLog("one"));
        await first.Task.WaitAsync(Patience);
        subscription.Dispose();
        worker.Publish("job-1", new JobLog("two"));
        // A marker on a fresh subscription: once it arrives, "two" would have arrived before it.
        var marker = new TaskCompletionSource();
        using (Follower.Subscribe("job-1", _ => marker.TrySetResult()))
        {
            worker.Publish("job-1", new JobLog("marker"));
            await marker.Task.WaitAsync(Patience);
        }

        Assert.Equal([new JobLog("one")], received);
    }

    [RedisFact]
    public async Task A_cancel_request_reaches_every_listening_worker()
    {
        var heardByA = new TaskCompletionSource<string>();
        var heardByB = new TaskCompletionSource<string>();
        using var a = Worker.OnCancelRequested(id => heardByA.TrySetResult(id));
        using var b = Follower.OnCancelRequested(id => heardByB.TrySetResult(id));

        Follower.RequestCancel("job-7");

        Assert.Equal("job-7", await heardByA.Task.WaitAsync(Patience));
        Assert.Equal("job-7", await heardByB.Task.WaitAsync(Patience));
    }
}
