using System.Collections.Concurrent;
using StableDiffusion.Synthetic;

namespace StableDiffusion.Core.Tests;

/// <summary>Synthetic model folders built once per test run (per preset and options) in a temp folder.</summary>
public static class SyntheticModelCache
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Folders = new();
    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"sd-core-tests-{Environment.ProcessId}");

    public static string Get(string preset, bool fp16 = false) =>
        Folders.GetOrAdd($"{preset}{(fp16 ? "-fp16" : "")}", key => new Lazy<string>(() =>
        {
            string dir = Path.Combine(Root, key);
            SyntheticModels.Build(preset, dir, new SyntheticModelOptions(fp16, Seed: 0));
            return dir;
        })).Value;

    /// <summary>A private, writable copy of a preset's folder (for tests that break it on purpose).</summary>
    public static string Copy(string preset)
    {
        string source = Get(preset);
        string target = Path.Combine(Root, "copies", Guid.NewGuid().ToString("N"));
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string dest = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }

        return target;
    }
}
