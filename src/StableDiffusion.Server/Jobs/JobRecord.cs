using System.Text.Json;
using StableDiffusion.Server.Generation;

namespace StableDiffusion.Server.Jobs;

/// <summary>
/// A prediction as a backend stores it: everything needed to answer for it and to run it again after a crash, on any
/// machine. <see cref="Job"/> is the live view of one of these in a process.
/// </summary>
internal sealed record JobRecord
{
    public required string Id { get; init; }
    /// <summary>Creation order, for cursor pagination.</summary>
    public required long Sequence { get; init; }
    public required string Model { get; init; }
    public required GenerationRequest Request { get; init; }
    public required JsonElement Input { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset Deadline { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public JobStatus Status { get; init; } = JobStatus.Starting;
    public string? Error { get; init; }
    /// <summary>Log lines and progress, in order (<see cref="JobLog"/> and <see cref="JobProgress"/> events).</summary>
    public IReadOnlyList<JobEvent> Log { get; init; } = [];
    public IReadOnlyList<StoredFile> Outputs { get; init; } = [];
    public bool OutputAsDataUri { get; init; }
    public Uri? Webhook { get; init; }
    public IReadOnlyList<string> WebhookEvents { get; init; } = [];
    public string BaseUrl { get; init; } = "";
    public string? Owner { get; init; }
    /// <summary>The run this state belongs to: 0 while never started, 1 for the first run, +1 for each re-run.</summary>
    public int Attempt { get; init; }
    public bool CancelRequested { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static JobRecord FromJson(ReadOnlySpan<byte> json)
        => JsonSerializer.Deserialize<JobRecord>(json, Json) ?? throw new JsonException("empty job record");
}
