namespace StableDiffusion.Server.Jobs;

/// <summary>An output file held by the <see cref="JobStore"/> until its prediction expires or the byte cap evicts it.</summary>
public sealed record StoredFile(string Id, string JobId, string FileName, string ContentType, byte[] Bytes, DateTimeOffset CreatedAt)
{
    /// <summary>True once the byte cap has evicted the content (the job keeps the id so its URL stays stable).</summary>
    public bool Evicted => Bytes.Length == 0;
}
