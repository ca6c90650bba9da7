using StableDiffusion.Synthetic;

namespace StableDiffusion.Server.Models;

/// <summary>The model served when none is configured: the synthetic <c>tiny</c> preset, random weights.</summary>
internal static class DemoModel
{
    public const string Name = "demo-random-weights";

    /// <summary>Appended to every prediction's logs while the demo model serves it.</summary>
    public const string Warning =
        "WARNING: model 'demo-random-weights' has RANDOM weights (synthetic tiny preset); its images are noise. Configure Models:Items for real output.";

    private static readonly Lock BuildLock = new();

    public static string DefaultPath => System.IO.Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "stablediffusion-server", Name);

    /// <summary>Generates the folder unless a complete one is already there (first start only).</summary>
    public static void EnsureBuilt(string directory, ILogger logger)
    {
        lock (BuildLock)
        {
            if (File.Exists(System.IO.Path.Combine(directory, "model_index.json")))
            {
                return;
            }
            // Several worker processes may start at once with the same home directory: one builds, the others wait on
            // an OS file lock (released when its holder exits, even by a crash) and then find the finished folder.
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(directory))!);
            using var processLock = AcquireFileLock(directory.TrimEnd(System.IO.Path.DirectorySeparatorChar) + ".lock");
            if (File.Exists(System.IO.Path.Combine(directory, "model_index.json")))
            {
                return;
            }
            logger.LogWarning("Generating the demo model (synthetic 'tiny' preset, RANDOM weights) into {Directory}", directory);
            // Build into a sibling folder and move it into place, so an interrupted first start leaves no half model.
            var staging = directory.TrimEnd(System.IO.Path.DirectorySeparatorChar) + ".partial-" + Environment.ProcessId;
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
            SyntheticModels.Build("tiny", staging);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(directory))!);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
            Directory.Move(staging, directory);
        }
    }

    private static FileStream AcquireFileLock(string path)
    {
        var until = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < until)
            {
                Thread.Sleep(200);
            }
        }
    }
}
