using System.Collections.Concurrent;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>Builds each (preset, options) once per test run into a temporary folder shared by the tests that read it.</summary>
internal static class SyntheticFolders
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "sd-synthetic-tests-" + Environment.ProcessId);
    private static readonly ConcurrentDictionary<string, Lazy<string>> Built = new();

    static SyntheticFolders()
    {
        // The test host is often killed rather than exiting, so ProcessExit cannot be trusted to clean up: remove the
        // folders of earlier runs whose process is gone instead.
        foreach (string stale in Directory.GetDirectories(Path.GetTempPath(), "sd-synthetic-tests-*"))
        {
            if (int.TryParse(Path.GetFileName(stale)["sd-synthetic-tests-".Length..], out int pid) && !IsRunning(pid))
            {
                try
                {
                    Directory.Delete(stale, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public static string Get(string preset, bool fp16 = false, int seed = 0, bool safetyChecker = false)
    {
        string key = $"{preset}-{(fp16 ? "fp16" : "fp32")}-{seed}{(safetyChecker ? "-safety" : "")}";
        return Built.GetOrAdd(key, k => new Lazy<string>(() =>
        {
            string directory = Path.Combine(Root, k);
            SyntheticModels.Build(preset, directory, new SyntheticModelOptions(fp16, seed, SafetyChecker: safetyChecker));
            return directory;
        })).Value;
    }

    public static string Get(ModelCase model) => Get(model.Preset, model.Fp16, safetyChecker: model.SafetyChecker);

    /// <summary>A fresh folder the caller owns (for tests that compare separate builds).</summary>
    public static string NewDirectory(string name) => Path.Combine(Root, "own-" + name + "-" + Guid.NewGuid().ToString("N"));
}
