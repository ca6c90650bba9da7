namespace StableDiffusion.Server.Jobs;

/// <summary>An output file held by the <see cref="JobStore"/> until its prediction expires or the byte cap evicts it.</summary>
public sealed record StoredFile(string Id, string JobId, string FileName, string ContentType, byte[] Bytes, DateTimeOffset CreatedAt)
{
    /// <summary>True once the byte cap has evicted the content (the job keeps the id so its URL stays stable).</summary>
    public bool Evicted => Bytes.Length == 0;

    /// <summary>Uploaded with <c>POST /v1/files</c> (no prediction): it expires by its own age.</summary>
    public bool IsUpload => JobId.Length == 0;

    /// <summary>Replicate's upload <c>metadata</c> (a JSON object), for uploads.</summary>
    public string? Metadata { get; init; }
}
