using System.Collections.Concurrent;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>Builds each (preset, options) once per test run into a temporary folder shared by the tests that read it.</summary>
internal static class SyntheticFolders
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "sd-synthetic-tests-" + Environment.ProcessId);
    private static readonly ConcurrentDictionary<string, Lazy<string>> Built = new();

    static SyntheticFolders()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (Environment.GetEnvironmentVariable("SD_KEEP_SYNTHETIC") != "1") Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        };
    }

    public static string Get(string preset, bool fp16 = false, int seed = 0)
    {
        string key = $"{preset}-{(fp16 ? "fp16" : "fp32")}-{seed}";
        return Built.GetOrAdd(key, k => new Lazy<string>(() =>
        {
            string directory = Path.Combine(Root, k);
            SyntheticModels.Build(preset, directory, new SyntheticModelOptions(fp16, seed));
            return directory;
        })).Value;
    }

    /// <summary>A fresh folder the caller owns (for tests that compare separate builds).</summary>
    public static string NewDirectory(string name) => Path.Combine(Root, "own-" + name + "-" + Guid.NewGuid().ToString("N"));
}
