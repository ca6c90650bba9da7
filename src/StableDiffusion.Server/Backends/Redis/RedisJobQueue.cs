using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StackExchange.Redis;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>
/// The cluster-wide queue (DESIGN §9): a Redis stream with one consumer group. An entry stays in the stream while a
/// worker holds it (pending), so admission counts queued + running and a crashed worker's job is still there to take
/// over. Every step that checks and then writes runs as one Lua script.
/// </summary>
internal sealed partial class RedisJobQueue : IJobQueue, IAsyncDisposable
{
    /// <summary>The one consumer group; each worker device is a consumer in it.</summary>
    public const string Group = "workers";

    // KEYS: stream. ARGV: group, capacity, job id, attempt, wake channel, batch key, images. The stream length counts entries waiting and
    // entries held by workers (completed ones are deleted), so "full" means cluster-wide queued + running.
    private const string EnqueueScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
          redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
        end
        if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then return false end
        local id = redis.call('XADD', KEYS[1], '*', 'job', ARGV[3], 'attempt', ARGV[4], 'batch', ARGV[6], 'images', ARGV[7])
        redis.call('PUBLISH', ARGV[5], id)
        return id
        """;

    // Every claim operation first checks that the entry is still pending for this consumer: a worker that went stale
    // and was taken over must not renew, finish or requeue the new owner's claim. KEYS: stream. ARGV: group,
    // consumer, entry id.
    private const string OwnsEntry = """
        local function owns()
          local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
          return #p == 1 and p[1][2] == ARGV[2]
        end
        """;

    // XCLAIM with min-idle 0 resets the entry's idle time; JUSTID keeps the delivery count as it is.
    private const string HeartbeatScript = OwnsEntry + "\n" + """
        if not owns() then return 0 end
        redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
        return 1
        """;

    private const string CompleteScript = OwnsEntry + "\n" + """
        if not owns() then return 0 end
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
        redis.call('XDEL', KEYS[1], ARGV[3])
        return 1
        """;

    // ARGV[4]: wake channel. The job goes to the back of the stream (streams cannot insert at the front).
    private const string ReleaseScript = OwnsEntry + "\n" + """
        if not owns() then return false end
        local entry = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
        redis.call('XDEL', KEYS[1], ARGV[3])
        if #entry == 0 then return false end
        local id = redis.call('XADD', KEYS[1], '*', unpack(entry[1][2]))
        redis.call('PUBLISH', ARGV[4], id)
        return id
        """;

    // KEYS: stream. ARGV: group, consumer, min idle ms. XAUTOCLAIM scans at most 10 × COUNT pending entries per
    // call, so it walks the cursor until it claims one or the whole pending list has been seen. Claiming bumps the
    // delivery count, read back with XPENDING. Returns {entry id, job id, delivery count} or nil.
    private const string TakeOverScript = """
        local cursor = '0-0'
        repeat
          local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', 1)
          cursor = r[1]
          local entry = r[2][1]
          if entry then
            local job = ''
            for i = 1, #entry[2], 2 do
              if entry[2][i] == 'job' then job = entry[2][i + 1] end
            end
            local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
            return {entry[1], job, p[1][4]}
          end
        until cursor == '0-0'
        return false
        """;

    // KEYS: stream. ARGV: group. {length, pending}; zeros before the first enqueue made the stream.
    private const string CountsScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
        local pending = redis.pcall('XPENDING', KEYS[1], ARGV[1])
        if type(pending) == 'table' and pending.err == nil then
          return {redis.call('XLEN', KEYS[1]), pending[1]}
        end
        return {redis.call('XLEN', KEYS[1]), 0}
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    // Claims this process holds, so IJobQueue's Complete/Release (which only know the job) find their entry.
    private readonly ConcurrentDictionary<string, (string Consumer, RedisClaim Claim)> _held = new();
    private readonly SemaphoreSlim _subscribeLock = new(1, 1);
    private readonly Action<RedisChannel, RedisValue> _onWake;
    private TaskCompletionSource _wake = NewWake();
    private bool _subscribed;
    private int _lastDepth;

    public RedisJobQueue(IConnectionMultiplexer redis, IOptions<StorageOptions> storage, IOptions<QueueOptions> queue)
    {
        _redis = redis;
        _keys = new RedisKeys(storage.Value.RedisPrefix);
        Capacity = queue.Value.Capacity;
        Heartbeat = TimeSpan.FromSeconds(storage.Value.HeartbeatSeconds);
        _onWake = (_, _) => Interlocked.Exchange(ref _wake, NewWake()).TrySetResult();
    }

    /// <summary>Most jobs queued and running at once, cluster-wide; one more is refused (429).</summary>
    public int Capacity { get; }

    /// <summary>How often a holder should call <see cref="HeartbeatAsync"/>.</summary>
    public TimeSpan Heartbeat { get; }

    /// <summary>A claim idle this long (three missed heartbeats) is taken over by <see cref="TakeOverStaleAsync(string, CancellationToken)"/>.</summary>
    public TimeSpan StaleAfter => 3 * Heartbeat;

    /// <summary>The stream's key, for KEDA's Redis Streams scaler (lag + pending of group <see cref="Group"/>).</summary>
    public string StreamKey => _keys.Queue.ToString();

    /// <summary>
    /// Jobs waiting for a worker (stream length minus pending). A gauge reads this synchronously; while Redis is
    /// unreachable it reports the last value it saw rather than throwing into the metrics pipeline.
    /// </summary>
    public int Depth
    {
        get
        {
            try
            {
                var (length, pending) = ReadCounts(_redis.GetDatabase().ScriptEvaluate(CountsScript, [_keys.Queue], [Group]));
                _lastDepth = (int)(length - pending);
            }
            catch (RedisException)
            {
                // Last known value: see the summary.
            }
            return _lastDepth;
        }
    }

    /// <summary>Entries in the stream (waiting + held) and those held by workers (pending).</summary>
    public async Task<(long Length, long Pending)> CountsAsync(CancellationToken cancellationToken = default)
        => ReadCounts(await _redis.GetDatabase().ScriptEvaluateAsync(CountsScript, [_keys.Queue], [Group]).ConfigureAwait(false));

    public Task<bool> EnqueueAsync(Job job, CancellationToken cancellationToken = default)
        => EnqueueAsync(job.Id, job.Attempt, JobBatchKey.Of(job), job.Request.NumOutputs, cancellationToken);

    /// <summary>Queues a stored job unless the stream already holds <see cref="Capacity"/> entries; wakes idle claimers.
    /// <paramref name="batchKey"/> (<see cref="JobBatchKey"/>) lets a worker claim it together with compatible jobs.</summary>
    public async Task<bool> EnqueueAsync(string jobId, int attempt, string? batchKey = null, int images = 1, CancellationToken cancellationToken = default)
    {
        var id = await _redis.GetDatabase().ScriptEvaluateAsync(EnqueueScript, [_keys.Queue],
            [Group, Capacity, jobId, attempt, _keys.QueueWake.ToString(), batchKey ?? "", images]).ConfigureAwait(false);
        return !id.IsNull;
    }

    /// <summary>Takes the next job nobody has claimed yet, or null when none waits (never blocks).</summary>
    public async Task<RedisClaim?> ClaimAsync(string consumer, CancellationToken cancellationToken = default)
    {
        StreamEntry[] entries;
        try
        {
            entries = await ReadNewAsync(consumer).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            // Nothing enqueued yet (or Redis lost its data): make the group, from the start of the stream.
            await CreateGroupAsync().ConfigureAwait(false);
            entries = await ReadNewAsync(consumer).ConfigureAwait(false);
        }
        if (entries.Length == 0)
        {
            return null;
        }
        return Hold(consumer, new RedisClaim((string)entries[0]["job"]!, entries[0].Id!, DeliveryCount: 1));
    }

    /// <summary>
    /// Takes over one claim idle for at least <see cref="StaleAfter"/> (its worker stopped heartbeating: killed,
    /// hung, cut off), or null when none is stale. The delivery count says how many workers have had it.
    /// </summary>
    public Task<RedisClaim?> TakeOverStaleAsync(string consumer, CancellationToken cancellationToken = default)
        => TakeOverStaleAsync(consumer, StaleAfter, cancellationToken);

    public async Task<RedisClaim?> TakeOverStaleAsync(string consumer, TimeSpan minIdle, CancellationToken cancellationToken = default)
    {
        RedisResult result;
        try
        {
            result = await _redis.GetDatabase().ScriptEvaluateAsync(TakeOverScript, [_keys.Queue],
                [Group, consumer, (long)minIdle.TotalMilliseconds]).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.Contains("NOGROUP", StringComparison.Ordinal))
        {
            return null; // no group, nothing pending
        }
        if (result.IsNull)
        {
            return null;
        }
        var parts = (RedisResult[])result!;
        return Hold(consumer, new RedisClaim((string)parts[1]!, (string)parts[0]!, (long)parts[2]));
    }

    /// <summary>
    /// Renews the claim (resets its idle time). False when this consumer no longer holds it: another worker took it
    /// over, so this one should stop the job without writing its result.
    /// </summary>
    public async Task<bool> HeartbeatAsync(string consumer, RedisClaim claim, CancellationToken cancellationToken = default)
    {
        var held = await RunOwnedAsync(HeartbeatScript, consumer, claim).ConfigureAwait(false);
        if (!held)
        {
            _held.TryRemove(new KeyValuePair<string, (string, RedisClaim)>(claim.JobId, (consumer, claim)));
        }
        return held;
    }

    /// <summary>Removes a finished job's entry (any final status). False when the claim was no longer this consumer's.</summary>
    public async Task<bool> CompleteAsync(string consumer, RedisClaim claim, CancellationToken cancellationToken = default)
    {
        _held.TryRemove(new KeyValuePair<string, (string, RedisClaim)>(claim.JobId, (consumer, claim)));
        return await RunOwnedAsync(CompleteScript, consumer, claim).ConfigureAwait(false);
    }

    /// <summary>
    /// Gives a held job back (shutdown): its entry goes and a new one joins the end of the stream, for any worker.
    /// False when the claim was no longer this consumer's (then the new owner has it and nothing is added).
    /// </summary>
    public async Task<bool> ReleaseAsync(string consumer, RedisClaim claim, CancellationToken cancellationToken = default)
    {
        _held.TryRemove(new KeyValuePair<string, (string, RedisClaim)>(claim.JobId, (consumer, claim)));
        var id = await _redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [_keys.Queue],
            [Group, consumer, claim.EntryId, _keys.QueueWake.ToString()]).ConfigureAwait(false);
        return !id.IsNull;
    }

    public async Task CompleteAsync(Job job, CancellationToken cancellationToken = default)
    {
        if (_held.TryGetValue(job.Id, out var held))
        {
            await CompleteAsync(held.Consumer, held.Claim, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task ReleaseAsync(Job job, CancellationToken cancellationToken = default)
    {
        if (_held.TryGetValue(job.Id, out var held))
        {
            await ReleaseAsync(held.Consumer, held.Claim, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The job ids in the stream, waiting or held, oldest first (at most <see cref="Capacity"/> of them, admission sees
    /// to that). After a crash between storing a prediction and queueing it, an unfinished prediction missing here
    /// needs queueing again.
    /// </summary>
    public async Task<IReadOnlyList<string>> JobIdsAsync(CancellationToken cancellationToken = default)
    {
        var entries = await _redis.GetDatabase().StreamRangeAsync(_keys.Queue).ConfigureAwait(false);
        return entries.Select(e => (string)e["job"]!).ToArray();
    }

    /// <summary>The claim this process holds for a job, if any (what a heartbeat loop renews).</summary>
    public RedisClaim? HeldClaim(string jobId) => _held.TryGetValue(jobId, out var held) ? held.Claim : null;

    /// <summary>
    /// Waits for a job and claims it: a stale claim first (older work), else a new entry. StackExchange.Redis has no
    /// blocking XREADGROUP (it would stall the shared connection), so this wakes on the enqueue channel and polls
    /// every <paramref name="pollInterval"/> as the fallback for a lost message or a claim going stale.
    /// </summary>
    public async Task<RedisClaim> ClaimNextAsync(string consumer, TimeSpan pollInterval, CancellationToken cancellationToken = default)
    {
        await EnsureWakeSubscriptionAsync().ConfigureAwait(false);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Taken before looking, so an enqueue between the look and the wait still wakes this wait.
            var wake = Volatile.Read(ref _wake).Task;
            var claim = await TakeOverStaleAsync(consumer, cancellationToken).ConfigureAwait(false)
                ?? await ClaimAsync(consumer, cancellationToken).ConfigureAwait(false);
            if (claim is not null)
            {
                return claim;
            }
            await Task.WhenAny(wake, Task.Delay(pollInterval, cancellationToken)).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_subscribed)
        {
            // Only this queue's handler: other users of the shared connection keep theirs.
            await _redis.GetSubscriber().UnsubscribeAsync(_keys.QueueWake, _onWake).ConfigureAwait(false);
        }
        _subscribeLock.Dispose();
        Interlocked.Exchange(ref _wake, NewWake()).TrySetResult();
    }

    private Task<StreamEntry[]> ReadNewAsync(string consumer)
        => _redis.GetDatabase().StreamReadGroupAsync(_keys.Queue, Group, consumer, StreamPosition.NewMessages, count: 1);

    private async Task CreateGroupAsync()
    {
        try
        {
            await _redis.GetDatabase().StreamCreateConsumerGroupAsync(_keys.Queue, Group, "0", createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another worker made it first.
        }
    }

    private async Task<bool> RunOwnedAsync(string script, string consumer, RedisClaim claim)
    {
        try
        {
            var result = await _redis.GetDatabase().ScriptEvaluateAsync(script, [_keys.Queue], [Group, consumer, claim.EntryId]).ConfigureAwait(false);
            return (long)result == 1;
        }
        catch (RedisServerException e) when (e.Message.Contains("NOGROUP", StringComparison.Ordinal))
        {
            return false; // the group is gone (Redis lost its data): nobody holds anything
        }
    }

    private RedisClaim Hold(string consumer, RedisClaim claim)
    {
        _held[claim.JobId] = (consumer, claim);
        return claim;
    }

    private async Task EnsureWakeSubscriptionAsync()
    {
        if (_subscribed)
        {
            return;
        }
        await _subscribeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_subscribed)
            {
                await _redis.GetSubscriber().SubscribeAsync(_keys.QueueWake, _onWake).ConfigureAwait(false);
                _subscribed = true;
            }
        }
        finally
        {
            _subscribeLock.Release();
        }
    }

    private static (long Length, long Pending) ReadCounts(RedisResult result)
    {
        var counts = (long[])result!;
        return (counts[0], counts[1]);
    }

    private static TaskCompletionSource NewWake() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
