using StableDiffusion.Synthetic;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>The synthetic <c>tiny</c> model, built once per test run into a temp folder.</summary>
public static class TinyModel
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        RemoveFoldersOfFinishedRuns();
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sd-server-tests-{Environment.ProcessId}", "tiny");
        SyntheticModels.Build("tiny", dir);
        return dir;
    });

    public static string Path => Folder.Value;

    private static void RemoveFoldersOfFinishedRuns()
    {
        foreach (var folder in Directory.EnumerateDirectories(System.IO.Path.GetTempPath(), "sd-server-tests-*"))
        {
            if (int.TryParse(System.IO.Path.GetFileName(folder)["sd-server-tests-".Length..], out var pid) && pid != Environment.ProcessId
                && !IsRunning(pid))
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
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

    /// <summary>A fresh temp folder for a test (demo model cache, broken model).</summary>
    public static string TempFolder(string name)
        => System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sd-server-tests-{Environment.ProcessId}", name + "-" + Guid.NewGuid().ToString("N"));
}
