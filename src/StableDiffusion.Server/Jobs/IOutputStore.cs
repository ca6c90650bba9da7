namespace StableDiffusion.Server.Jobs;

/// <summary>
/// Where file bytes live: the local disk (shared by replicas that mount it) or S3-compatible storage. Keys include the
/// job's attempt, so a re-run never clobbers the result of an earlier one.
/// </summary>
internal interface IOutputStore
{
    Task PutAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken = default);

    /// <summary>The bytes, or null when the object is gone (expired, evicted).</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);

    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// A URL a client can download the file from for <paramref name="lifetime"/>: a signed link to this server's
    /// <c>/v1/files/{id}</c>, or a presigned GET on the object store; null to use the unsigned server link.
    /// </summary>
    string? DirectUrl(StoredFile file, TimeSpan lifetime);
}
