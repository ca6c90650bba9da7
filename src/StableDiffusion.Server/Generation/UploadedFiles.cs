namespace StableDiffusion.Server.Generation;

/// <summary>
/// Files clients uploaded, as the validator sees them: an image input may name one by id or URL. Whoever stores the
/// uploads supplies the lookup (the API registers it over the job store), so Generation stays below Jobs.
/// </summary>
internal sealed class UploadedFiles(Func<string, byte[]?> find)
{
    /// <summary>The file's bytes; null when there is no such upload (or it expired).</summary>
    public byte[]? Find(string id) => find(id);
}
