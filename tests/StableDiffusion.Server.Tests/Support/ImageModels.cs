using StableDiffusion.Synthetic;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>Synthetic models of every kind for the image-input tests, each built once per test run.</summary>
public static class ImageModels
{
    private static readonly Lazy<string> InpaintFolder = new(() => Build("tiny-inpaint"));
    private static readonly Lazy<string> UpscaleFolder = new(() => Build("tiny-upscale"));
    private static readonly Lazy<string> DepthFolder = new(() => Build("tiny-depth"));
    private static readonly Lazy<string> DepthWithoutEstimatorFolder = new(() =>
    {
        var dir = Build("tiny-depth", "tiny-depth-no-estimator");
        Directory.Delete(Path.Combine(dir, "depth_estimator"), recursive: true);
        return dir;
    });
    private static readonly Lazy<string> FlaggingFolder = new(BuildFlagging);

    public static string Inpaint => InpaintFolder.Value;
    public static string Upscale => UpscaleFolder.Value;
    public static string Depth => DepthFolder.Value;
    public static string DepthWithoutEstimator => DepthWithoutEstimatorFolder.Value;

    /// <summary><c>tiny</c> with a safety checker that flags every image.</summary>
    public static string Flagging => FlaggingFolder.Value;

    private static string Build(string preset, string? name = null, SyntheticModelOptions? options = null)
    {
        var dir = Path.Combine(Path.GetDirectoryName(TinyModel.Path)!, name ?? preset);
        SyntheticModels.Build(preset, dir, options);
        return dir;
    }

    private static string BuildFlagging()
    {
        // The synthetic checker flags an image when the mean of its CLIP input exceeds 1.5 (near-white), a float stored
        // once in its graph; a random-weights model does not draw white, so the threshold is lowered to flag anything
        // (as Core's SafetyCheckerTests do).
        var dir = Build("tiny", "tiny-flagging", new SyntheticModelOptions(SafetyChecker: true));
        var path = Path.Combine(dir, "safety_checker", "model.onnx");
        var model = File.ReadAllBytes(path);
        var threshold = BitConverter.GetBytes(1.5f);
        var at = model.AsSpan().IndexOf(threshold);
        if (at < 0 || model.AsSpan(at + 4).IndexOf(threshold) >= 0)
        {
            throw new InvalidOperationException("the synthetic checker's threshold 1.5 must appear exactly once");
        }
        BitConverter.GetBytes(-1e9f).CopyTo(model, at);
        File.WriteAllBytes(path, model);
        return dir;
    }
}
