using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Outputs;

/// <summary>
/// Output files on disk under <c>{DataDirectory}/files/</c>, shared by the replicas that mount the same volume. Clients
/// download through the server's <c>/v1/files/{id}</c> (signed links, <see cref="FileUrlSigner"/>), so
/// <see cref="DirectUrl"/> has nothing better to offer.
/// </summary>
internal sealed class FileSystemOutputStore : IOutputStore
{
    private readonly string _root;

    public FileSystemOutputStore(string dataDirectory)
    {
        _root = Path.GetFullPath(Path.Combine(dataDirectory, "files"));
        Directory.CreateDirectory(_root);
    }

    /// <summary>The folder the files live in.</summary>
    public string Root => _root;

    /// <summary>
    /// Writes to a temporary file beside the target, flushes it to disk, then renames it into place: a reader (or a
    /// restart after a crash) sees the whole file or none, never a torn one.
    /// </summary>
    public async Task PutAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var stream = CreateWithFolder(temporary))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(key), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        try
        {
            File.Delete(path); // no error when the file is already gone
        }
        catch (DirectoryNotFoundException)
        {
            return Task.CompletedTask; // its folder too
        }
        // Drop the job's folder once empty, so retention leaves no trail of empty directories.
        var folder = Path.GetDirectoryName(path)!;
        try
        {
            if (folder != _root && !Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
            }
        }
        catch (IOException)
        {
            // Another replica wrote into it (it stays) or removed it first.
        }
        return Task.CompletedTask;
    }

    public string? DirectUrl(StoredFile file, TimeSpan lifetime) => null;

    /// <summary>Creates the file and its folder; tries again if a delete of the folder's last file removed it in between.</summary>
    private static FileStream CreateWithFolder(string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            try
            {
                return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81_920, useAsync: true);
            }
            catch (DirectoryNotFoundException) when (attempt < 3)
            {
            }
        }
    }

    private string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(_root, OutputKeys.Validate(key)));
        // Belt and braces after the key check: whatever the key, the path stays inside the store.
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"output key '{key}' leaves the store", nameof(key));
        }
        return path;
    }
}
