namespace StableDiffusion.Server.Jobs;

/// <summary>
/// Gives stored outputs their download links when they are saved: the object store's own (S3 presigned GET), or a
/// signed, expiring link to this server's <c>/v1/files/{id}</c> that any replica sharing the signing key accepts.
/// Links expire with the retention time, as the prediction does.
/// </summary>
internal sealed class FileLinks(IOutputStore outputs, Func<string, DateTimeOffset, string> sign)
{
    public StoredFile Sign(StoredFile file, TimeSpan lifetime)
    {
        if (file.IsUpload)
        {
            return file; // referenced by id in inputs (Replicate's files API); the id is the credential
        }
        return file with
        {
            DirectUrl = outputs.DirectUrl(file, lifetime),
            LinkQuery = sign(file.Id, file.CreatedAt + lifetime),
        };
    }
}
