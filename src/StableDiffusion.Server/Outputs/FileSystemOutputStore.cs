using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Outputs;

/// <summary>File bytes on the local disk under <c>{DataDirectory}/files</c>, written atomically (temp file + rename).</summary>
public sealed class FileSystemOutputStore(string root) : IOutputStore
{
    public async Task PutAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        await File.WriteAllBytesAsync(temp, bytes, cancellationToken);
        File.Move(temp, path, overwrite: true);
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(key), cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    public string? DirectUrl(StoredFile file, TimeSpan lifetime) => null;

    private string PathOf(string key)
    {
        // Keys are our own ("outputs/{job}/{attempt}/{id}"), but never let one leave the root.
        var path = Path.GetFullPath(Path.Combine(root, key));
        if (!path.StartsWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"output key '{key}' leaves the output directory", nameof(key));
        }
        return path;
    }
}
