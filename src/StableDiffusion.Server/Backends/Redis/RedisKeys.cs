using StackExchange.Redis;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>
/// Every key and channel the Redis backend uses, in one place, under one prefix (so deployments can share a Redis,
/// and KEDA/ops tooling can find the stream by name).
/// </summary>
internal sealed class RedisKeys(string prefix)
{
    public string Prefix { get; } = prefix;

    /// <summary>Hash per prediction: <c>record</c> (JobRecord JSON), <c>attempt</c>, <c>status</c>, <c>done</c>, <c>list</c>.</summary>
    public RedisKey Job(string id) => Prefix + "job:" + id;

    /// <summary>String per file: StoredFile metadata JSON (the bytes live in the output store).</summary>
    public RedisKey File(string id) => Prefix + "file:" + id;

    /// <summary>INCR counter for prediction sequence numbers.</summary>
    public RedisKey Sequence => Prefix + "seq";

    /// <summary>
    /// Sorted set per owner (score = sequence) for cursor pagination. Owners are hashes of API keys; predictions made
    /// without a key share one list whose name no hash can take.
    /// </summary>
    public RedisKey List(string? owner) => owner is null ? Prefix + "list:-" : Prefix + "list:o:" + owner;

    /// <summary>Sorted set of queued and processing predictions (score = sequence, so oldest first).</summary>
    public RedisKey Unfinished => Prefix + "unfinished";

    /// <summary>Sorted set of finished predictions (score = completion, Unix ms), what retention sweeps.</summary>
    public RedisKey Finished => Prefix + "finished";

    /// <summary>Sorted set of uploaded files (score = creation, Unix ms).</summary>
    public RedisKey Uploads => Prefix + "uploads";

    /// <summary>The job stream; its consumer group is <see cref="RedisJobQueue.Group"/>.</summary>
    public RedisKey Queue => Prefix + "queue";

    /// <summary>Published on enqueue and release: claimers wake instead of waiting for their next poll.</summary>
    public RedisChannel QueueWake => RedisChannel.Literal(Prefix + "queue:wake");

    /// <summary>A job's events (JobEvent JSON).</summary>
    public RedisChannel Events(string jobId) => RedisChannel.Literal(Prefix + "events:" + jobId);

    /// <summary>Cancel requests (the job id), heard by every worker.</summary>
    public RedisChannel Cancel => RedisChannel.Literal(Prefix + "cancel");

    /// <summary>Hash of model name → ModelInfo JSON, published by workers.</summary>
    public RedisKey Models => Prefix + "models";
}
