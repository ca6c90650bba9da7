using System.Text.Json;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StackExchange.Redis;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>
/// Predictions and file metadata in Redis (DESIGN §9): a hash per prediction, a sorted set per owner for cursor
/// pagination, sorted sets of unfinished and finished ids, and compare-and-set updates in Lua so that the check and
/// the write are one step no other client can come between.
/// </summary>
internal sealed class RedisPredictionStore : IPredictionStore
{
    /// <summary>
    /// How long past retention a finished record's keys live if no sweep removes them first (every replica down, say):
    /// the sweep is the rule, expiry only the backstop, so it must never fire before the sweep would.
    /// </summary>
    public static readonly TimeSpan ExpiryMargin = TimeSpan.FromHours(1);

    /// <summary>
    /// Output files are saved before their prediction finishes; this covers the longest a prediction can stay
    /// unfinished (the queue deadline is at most a day), so the files of a run that crashed still expire.
    /// </summary>
    private static readonly TimeSpan UnfinishedFileLifetime = TimeSpan.FromDays(1);

    // KEYS: job, list, unfinished, finished. ARGV: id, json, attempt, status, done, sequence, completed ms, ttl s.
    private const string CreateScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'record', ARGV[2], 'attempt', ARGV[3], 'status', ARGV[4], 'done', ARGV[5], 'list', KEYS[2])
        redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
        if ARGV[5] == '1' then
          redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1])
          redis.call('EXPIRE', KEYS[1], ARGV[8])
        else
          redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
        end
        return 1
        """;

    // KEYS: job, unfinished, finished, then the output files' keys. ARGV: id, json, expected attempt, attempt,
    // status, done, sequence, completed ms, ttl s. The fence: same attempt as the caller's run, and not finished.
    private const string UpdateScript = """
        local current = redis.call('HMGET', KEYS[1], 'attempt', 'done')
        if not current[1] then return 0 end
        if current[1] ~= ARGV[3] or current[2] == '1' then return 0 end
        redis.call('HSET', KEYS[1], 'record', ARGV[2], 'attempt', ARGV[4], 'status', ARGV[5], 'done', ARGV[6])
        if ARGV[6] == '1' then
          redis.call('ZREM', KEYS[2], ARGV[1])
          redis.call('ZADD', KEYS[3], ARGV[8], ARGV[1])
          redis.call('EXPIRE', KEYS[1], ARGV[9])
          for i = 4, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[9]) end
        else
          redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
        end
        return 1
        """;

    // KEYS: job, finished, list, unfinished, then the output files' keys. ARGV: id, cutoff ms.
    // Removes the record only if it is still the finished one the caller read (its finished score is before cutoff).
    private const string SweepScript = """
        local completed = redis.call('ZSCORE', KEYS[2], ARGV[1])
        if not completed or tonumber(completed) >= tonumber(ARGV[2]) then return 0 end
        redis.call('ZREM', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[3], ARGV[1])
        redis.call('ZREM', KEYS[4], ARGV[1])
        redis.call('DEL', KEYS[1])
        for i = 5, #KEYS do redis.call('DEL', KEYS[i]) end
        return 1
        """;

    // KEYS: job, list, unfinished, finished. ARGV: id.
    private const string DeleteScript = """
        redis.call('ZREM', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[3], ARGV[1])
        redis.call('ZREM', KEYS[4], ARGV[1])
        return redis.call('DEL', KEYS[1])
        """;

    // KEYS: file, uploads. ARGV: id. Returns the metadata it removed.
    private const string TakeFileScript = """
        local json = redis.call('GET', KEYS[1])
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        return json
        """;

    private const int SweepBatch = 100;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly TimeSpan _retention;

    public RedisPredictionStore(IConnectionMultiplexer redis, IOptions<StorageOptions> storage, IOptions<ResultsOptions> results)
    {
        _redis = redis;
        _keys = new RedisKeys(storage.Value.RedisPrefix);
        _retention = TimeSpan.FromSeconds(results.Value.RetentionSeconds);
    }

    private IDatabase Db => _redis.GetDatabase();

    private long ExpirySeconds => (long)(_retention + ExpiryMargin).TotalSeconds;

    public async Task<long> NextSequenceAsync(CancellationToken cancellationToken = default)
        => await Db.StringIncrementAsync(_keys.Sequence).ConfigureAwait(false);

    public async Task CreateAsync(JobRecord record, CancellationToken cancellationToken = default)
    {
        var done = record.Status.IsTerminal();
        var created = (long)await Db.ScriptEvaluateAsync(CreateScript,
            [_keys.Job(record.Id), _keys.List(record.Owner), _keys.Unfinished, _keys.Finished],
            [record.Id, record.ToJson(), record.Attempt, (int)record.Status, done ? 1 : 0, record.Sequence,
             CompletedMilliseconds(record), ExpirySeconds]).ConfigureAwait(false);
        if (created == 0)
        {
            throw new InvalidOperationException($"prediction {record.Id} already exists");
        }
    }

    public async Task<JobRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var json = await Db.HashGetAsync(_keys.Job(id), "record").ConfigureAwait(false);
        return json.IsNull ? null : JobRecord.FromJson((byte[])json!);
    }

    public async Task<bool> TryUpdateAsync(JobRecord record, int expectedAttempt, CancellationToken cancellationToken = default)
    {
        var done = record.Status.IsTerminal();
        RedisKey[] keys = [_keys.Job(record.Id), _keys.Unfinished, _keys.Finished, .. record.Outputs.Select(f => _keys.File(f.Id))];
        var updated = (long)await Db.ScriptEvaluateAsync(UpdateScript, keys,
            [record.Id, record.ToJson(), expectedAttempt, record.Attempt, (int)record.Status, done ? 1 : 0, record.Sequence,
             CompletedMilliseconds(record), ExpirySeconds]).ConfigureAwait(false);
        return updated == 1;
    }

    public async Task<(IReadOnlyList<JobRecord> Page, bool More)> ListAsync(string? owner, long? beforeSequence, int count, CancellationToken cancellationToken = default)
    {
        var page = new List<JobRecord>(count + 1);
        var below = beforeSequence is { } before ? (double)before : double.PositiveInfinity;
        // Asks for one more than the page to learn whether more follow; loops only when some ids in the index had
        // already expired (backstop expiry) and were dropped, so the page still fills up.
        while (page.Count <= count)
        {
            var want = count + 1 - page.Count;
            var ids = await Db.SortedSetRangeByScoreWithScoresAsync(_keys.List(owner), below, double.NegativeInfinity,
                Exclude.Start, Order.Descending, 0, want).ConfigureAwait(false);
            if (ids.Length == 0)
            {
                break;
            }
            page.AddRange(await LoadAsync(_keys.List(owner), ids).ConfigureAwait(false));
            below = ids[^1].Score;
            if (ids.Length < want)
            {
                break;
            }
        }
        var more = page.Count > count;
        return (more ? page[..count] : page, more);
    }

    public async Task<(IReadOnlyList<JobRecord> Page, bool More)> ListNewerAsync(string? owner, long afterSequence, int count, CancellationToken cancellationToken = default)
    {
        var page = new List<JobRecord>(count + 1);
        double above = afterSequence;
        while (page.Count <= count)
        {
            var want = count + 1 - page.Count;
            var ids = await Db.SortedSetRangeByScoreWithScoresAsync(_keys.List(owner), above, double.PositiveInfinity,
                Exclude.Start, Order.Ascending, 0, want).ConfigureAwait(false);
            if (ids.Length == 0)
            {
                break;
            }
            page.AddRange(await LoadAsync(_keys.List(owner), ids).ConfigureAwait(false));
            above = ids[^1].Score;
            if (ids.Length < want)
            {
                break;
            }
        }
        // Read oldest first to take the ones just after the cursor; the page is shown newest first.
        var more = page.Count > count;
        var newer = more ? page[..count] : page;
        newer.Reverse();
        return (newer, more);
    }

    public async Task<IReadOnlyList<JobRecord>> UnfinishedAsync(CancellationToken cancellationToken = default)
    {
        var ids = await Db.SortedSetRangeByScoreWithScoresAsync(_keys.Unfinished).ConfigureAwait(false);
        var records = await LoadAsync(_keys.Unfinished, ids).ConfigureAwait(false);
        return records.Where(r => !r.Status.IsTerminal()).ToArray();
    }

    public async Task<IReadOnlyList<JobRecord>> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var removed = new List<JobRecord>();
        var cutoffMs = cutoff.ToUnixTimeMilliseconds();
        while (!cancellationToken.IsCancellationRequested)
        {
            var ids = await Db.SortedSetRangeByScoreAsync(_keys.Finished, double.NegativeInfinity, cutoffMs,
                Exclude.Stop, Order.Ascending, 0, SweepBatch).ConfigureAwait(false);
            foreach (var idValue in ids)
            {
                var id = (string)idValue!;
                var fields = await Db.HashGetAsync(_keys.Job(id), ["record", "list"]).ConfigureAwait(false);
                if (fields[0].IsNull)
                {
                    // The backstop expiry got there first; the list index entry is pruned when a page meets it.
                    await Db.SortedSetRemoveAsync(_keys.Finished, id).ConfigureAwait(false);
                    continue;
                }
                var record = JobRecord.FromJson((byte[])fields[0]!);
                RedisKey[] keys = [_keys.Job(id), _keys.Finished, (string)fields[1]!, _keys.Unfinished, .. record.Outputs.Select(f => _keys.File(f.Id))];
                var result = (long)await Db.ScriptEvaluateAsync(SweepScript, keys, [id, cutoffMs]).ConfigureAwait(false);
                if (result > 0)
                {
                    removed.Add(record);
                }
            }
            if (ids.Length < SweepBatch)
            {
                break;
            }
        }
        return removed;
    }

    /// <summary>
    /// Removes a prediction outright, whatever its state. Not part of <see cref="IPredictionStore"/>: for a prediction
    /// stored just before the queue refused it (429 means the job was not created).
    /// </summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        var owner = await Db.HashGetAsync(_keys.Job(id), "list").ConfigureAwait(false);
        if (owner.IsNull)
        {
            return false;
        }
        var deleted = (long)await Db.ScriptEvaluateAsync(DeleteScript,
            [_keys.Job(id), (string)owner!, _keys.Unfinished, _keys.Finished], [id]).ConfigureAwait(false);
        return deleted == 1;
    }

    public async Task SaveFileAsync(StoredFile file, CancellationToken cancellationToken = default)
    {
        var db = Db;
        var key = _keys.File(file.Id);
        // Metadata only: the bytes belong to the output store (S3 or the shared disk), never to Redis memory.
        var json = JsonSerializer.SerializeToUtf8Bytes(file, JobRecord.Json);
        var expiry = file.IsUpload
            ? file.CreatedAt + _retention + ExpiryMargin - DateTimeOffset.UtcNow
            : _retention + ExpiryMargin + UnfinishedFileLifetime;
        var transaction = db.CreateTransaction();
        _ = transaction.StringSetAsync(key, json, expiry > TimeSpan.Zero ? expiry : TimeSpan.FromSeconds(1));
        if (file.IsUpload)
        {
            _ = transaction.SortedSetAddAsync(_keys.Uploads, file.Id, file.CreatedAt.ToUnixTimeMilliseconds());
        }
        await transaction.ExecuteAsync().ConfigureAwait(false);
    }

    public async Task<StoredFile?> GetFileAsync(string id, CancellationToken cancellationToken = default)
    {
        var json = await Db.StringGetAsync(_keys.File(id)).ConfigureAwait(false);
        return json.IsNull ? null : ReadFile(json);
    }

    public async Task<bool> DeleteFileAsync(string id, CancellationToken cancellationToken = default)
    {
        var json = await Db.ScriptEvaluateAsync(TakeFileScript, [_keys.File(id), _keys.Uploads], [id]).ConfigureAwait(false);
        return !json.IsNull;
    }

    public async Task<IReadOnlyList<StoredFile>> SweepUploadsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var removed = new List<StoredFile>();
        var ids = await Db.SortedSetRangeByScoreAsync(_keys.Uploads, double.NegativeInfinity, cutoff.ToUnixTimeMilliseconds(),
            Exclude.Stop).ConfigureAwait(false);
        foreach (var idValue in ids)
        {
            var id = (string)idValue!;
            var json = await Db.ScriptEvaluateAsync(TakeFileScript, [_keys.File(id), _keys.Uploads], [id]).ConfigureAwait(false);
            if (!json.IsNull)
            {
                removed.Add(ReadFile((RedisValue)json));
            }
        }
        return removed;
    }

    /// <summary>Reads the records of <paramref name="ids"/> in one round trip; drops ids whose record has expired from <paramref name="index"/>.</summary>
    private async Task<List<JobRecord>> LoadAsync(RedisKey index, SortedSetEntry[] ids)
    {
        var db = Db;
        var batch = db.CreateBatch();
        var reads = ids.Select(e => batch.HashGetAsync(_keys.Job((string)e.Element!), "record")).ToArray();
        batch.Execute();
        var records = new List<JobRecord>(ids.Length);
        for (var i = 0; i < reads.Length; i++)
        {
            var json = await reads[i].ConfigureAwait(false);
            if (json.IsNull)
            {
                await db.SortedSetRemoveAsync(index, ids[i].Element).ConfigureAwait(false);
                continue;
            }
            records.Add(JobRecord.FromJson((byte[])json!));
        }
        return records;
    }

    private static StoredFile ReadFile(RedisValue json)
        => JsonSerializer.Deserialize<StoredFile>((byte[])json!, JobRecord.Json) ?? throw new JsonException("empty file record");

    private static long CompletedMilliseconds(JobRecord record)
        => (record.CompletedAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
}
