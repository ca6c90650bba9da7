using System.Security.Cryptography;

namespace StableDiffusion.Server.Configuration;

/// <summary>
/// Keys the server makes up when none is configured (link signing, webhook signing), kept in the data directory so
/// they survive restarts and every replica sharing that directory agrees. Several processes starting at once agree on
/// one key: the file is created by an atomic no-overwrite rename, and the losers read the winner's.
/// </summary>
internal static class GeneratedKeys
{
    public static byte[] ReadOrCreate(string dataDirectory, string name, int bytes)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, name);
        if (!File.Exists(path))
        {
            var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temporary, Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            try
            {
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary); // another process won the race; use its key
            }
        }
        return Convert.FromBase64String(File.ReadAllText(path).Trim());
    }
}
