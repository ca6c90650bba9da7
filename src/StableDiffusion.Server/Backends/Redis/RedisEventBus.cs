using System.Text.Json;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StackExchange.Redis;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>
/// Job events and cancel requests over Redis pub/sub: a channel per job, one channel for cancels. Pub/sub keeps no
/// history and drops messages for a client that is disconnected, which is what <see cref="IJobEventBus"/> promises
/// (at most once): followers read the stored state first and again now and then.
/// </summary>
internal sealed class RedisEventBus(IConnectionMultiplexer redis, IOptions<StorageOptions> storage, ILogger<RedisEventBus> logger) : IJobEventBus
{
    private readonly RedisKeys _keys = new(storage.Value.RedisPrefix);

    public void Publish(string jobId, JobEvent e)
    {
        // Serialized as the base type so the "type" discriminator is written. Fire-and-forget keeps the worker off
        // the network; commands on one connection go out in the order issued, so events stay in order.
        var json = JsonSerializer.SerializeToUtf8Bytes(e, JobRecord.Json);
        redis.GetSubscriber().Publish(_keys.Events(jobId), json, CommandFlags.FireAndForget);
    }

    public IDisposable Subscribe(string jobId, Action<JobEvent> onEvent)
        => Listen(_keys.Events(jobId), message =>
        {
            if (JsonSerializer.Deserialize<JobEvent>((byte[])message!, JobRecord.Json) is { } e)
            {
                onEvent(e);
            }
        });

    public void RequestCancel(string jobId)
        => redis.GetSubscriber().Publish(_keys.Cancel, jobId, CommandFlags.FireAndForget);

    public IDisposable OnCancelRequested(Action<string> onCancel)
        => Listen(_keys.Cancel, message => onCancel((string)message!));

    /// <summary>
    /// Subscribes and returns once Redis has confirmed, so nothing published afterwards is missed. A message queue
    /// (rather than a handler) delivers one message at a time, in order; a bad message is logged, not fatal.
    /// </summary>
    private Subscription Listen(RedisChannel channel, Action<RedisValue> handle)
    {
        var queue = redis.GetSubscriber().Subscribe(channel);
        queue.OnMessage(message =>
        {
            try
            {
                handle(message.Message);
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
            {
                logger.LogWarning(ex, "Dropped an unreadable message on {Channel}", channel);
            }
        });
        return new Subscription(queue);
    }

    private sealed class Subscription(ChannelMessageQueue queue) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                queue.Unsubscribe(CommandFlags.FireAndForget);
            }
        }
    }
}
