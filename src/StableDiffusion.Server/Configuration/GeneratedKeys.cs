using System.Security.Cryptography;

namespace StableDiffusion.Server.Configuration;

/// <summary>
/// Keys the server makes up when none is configured (link signing, webhook signing), kept in the data directory so
/// they survive restarts and every replica sharing that directory agrees. Several processes starting at once agree on
/// one key: the file is created exclusively (O_CREAT|O_EXCL, atomic), only its creator writes it, and everyone reads
/// it back, waiting while the creator is still writing.
/// </summary>
internal static class GeneratedKeys
{
    public static byte[] ReadOrCreate(string dataDirectory, string name, int bytes)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, name);
        if (!File.Exists(path))
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Read };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }
                using var stream = new FileStream(path, options);
                stream.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes))));
                stream.Flush(flushToDisk: true);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: read its key below.
            }
        }
        for (var attempt = 0; ; attempt++)
        {
            var buffer = new byte[bytes];
            if (Convert.TryFromBase64String(File.ReadAllText(path).Trim(), buffer, out var written) && written == bytes)
            {
                return buffer;
            }
            if (attempt == 200)
            {
                throw new InvalidOperationException($"'{path}' does not hold a {bytes}-byte base64 key; delete it to make a new one");
            }
            Thread.Sleep(10); // its creator is still writing it
        }
    }
}
