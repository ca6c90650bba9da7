using StableDiffusion.Synthetic;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>The synthetic <c>tiny</c> model, built once per test run into a temp folder.</summary>
public static class TinyModel
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sd-server-tests-{Environment.ProcessId}", "tiny");
        SyntheticModels.Build("tiny", dir);
        return dir;
    });

    public static string Path => Folder.Value;

    /// <summary>A fresh temp folder for a test (demo model cache, broken model).</summary>
    public static string TempFolder(string name)
        => System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sd-server-tests-{Environment.ProcessId}", name + "-" + Guid.NewGuid().ToString("N"));
}
