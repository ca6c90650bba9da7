using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Outputs;

/// <summary>
/// Object keys of the output stores: <c>outputs/{job}/{file}{.ext}</c> and <c>uploads/{file}{.ext}</c>. File ids are
/// fresh for every run, so a re-run never writes over an earlier run's object. Keys are our own ids, and still
/// checked: a key must never name a path outside the store.
/// </summary>
internal static class OutputKeys
{
    private const int MaxLength = 512;

    public static string For(StoredFile file)
    {
        if (file.Key.Length > 0)
        {
            return Validate(file.Key); // set when stored: per job, attempt and id
        }
        var extension = Path.GetExtension(file.FileName);
        if (!IsSafeSegment(extension.TrimStart('.')))
        {
            extension = "";
        }
        var key = file.IsUpload ? $"uploads/{file.Id}{extension}" : $"outputs/{file.JobId}/{file.Id}{extension}";
        return Validate(key);
    }

    /// <summary>Returns <paramref name="key"/> when it is relative, made of <c>[A-Za-z0-9._-]</c> segments, none of them <c>.</c> or <c>..</c>.</summary>
    public static string Validate(string key)
    {
        if (!IsValid(key))
        {
            throw new ArgumentException($"not a valid output key: '{key}'", nameof(key));
        }
        return key;
    }

    public static bool IsValid(string key)
        => !string.IsNullOrEmpty(key) && key.Length <= MaxLength && key.Split('/').All(s => s.Length > 0 && s != "." && s != ".." && IsSafeSegment(s));

    private static bool IsSafeSegment(string segment)
        => segment.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-');
}
