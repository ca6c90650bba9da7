using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Jobs;

/// <summary>
/// An output or uploaded file: its metadata, stored with the predictions; the bytes live in the
/// <see cref="IOutputStore"/> under <see cref="Key"/> until the prediction expires or the byte cap evicts them.
/// </summary>
internal sealed record StoredFile(string Id, string JobId, string FileName, string ContentType, long Size, DateTimeOffset CreatedAt)
{
    /// <summary>The object's key in the output store: per job and attempt, so a re-run never clobbers a result.</summary>
    public string Key { get; init; } = "";

    /// <summary>True once the byte cap has evicted the content (the job keeps the id so its URL stays stable).</summary>
    public bool Evicted { get; init; }

    /// <summary>Uploaded with <c>POST /v1/files</c> (no prediction): it expires by its own age.</summary>
    [JsonIgnore]
    public bool IsUpload => JobId.Length == 0;

    /// <summary>The signed query (<c>expires=…&amp;sig=…</c>) of the server's link to an output; null for uploads.</summary>
    public string? LinkQuery { get; init; }

    /// <summary>A link straight to the object store (an S3 presigned GET) valid as long as the file is kept; null to
    /// download through the server.</summary>
    public string? DirectUrl { get; init; }

    /// <summary>The file as a data URI, kept with the prediction when the client asked for data URIs instead of URLs.</summary>
    public string? DataUri { get; init; }

    /// <summary>Replicate's upload <c>metadata</c> (a JSON object), for uploads.</summary>
    public string? Metadata { get; init; }

    /// <summary>The key of a file: uploads by id, outputs by job, attempt and id.</summary>
    public static string KeyFor(string id, string jobId, int attempt)
        => jobId.Length == 0 ? $"uploads/{id}" : $"outputs/{jobId}/{attempt}/{id}";
}
