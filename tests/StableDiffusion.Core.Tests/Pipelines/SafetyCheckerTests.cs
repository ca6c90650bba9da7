using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Synthetic;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class SafetyCheckerTests
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Folders = new();

    // The synthetic checker flags an image when the mean of its CLIP-normalised input exceeds 1.5 (near-white),
    // so both outcomes can be reached on purpose (StableDiffusion.Synthetic's SafetyCheckerGraph).
    private static string FolderWithChecker() =>
        Folders.GetOrAdd("tiny+safety", _ => new Lazy<string>(() =>
        {
            string dir = Path.Combine(Path.GetTempPath(), $"sd-core-tests-{Environment.ProcessId}", "tiny-safety");
            SyntheticModels.Build("tiny", dir, new SyntheticModelOptions(SafetyChecker: true));
            return dir;
        })).Value;

    private static readonly GenerationSettings Small = new()
    {
        Prompt = "a lighthouse",
        Width = 64,
        Height = 64,
        Steps = 2,
        Seed = 1,
        WatermarkPayload = null,
    };

    [Fact]
    public void Checker_flags_a_white_image_and_blacks_it_out()
    {
        using var options = new SessionOptions();
        using var component = OnnxComponent.Open("safety_checker", Path.Combine(FolderWithChecker(), "safety_checker", "model.onnx"), options);
        var checker = new SafetyChecker(component, FeatureExtractor.Load(Path.Combine(FolderWithChecker(), "feature_extractor", "preprocessor_config.json"), FeatureExtractor.Clip));
        var white = TestImages.Solid(64, 48, 255);
        var gradient = TestImages.Gradient(64, 48);

        Assert.True(checker.CheckAndBlackOut(white));
        Assert.All(white.Pixels, p => Assert.Equal(0, p));
        byte[] before = (byte[])gradient.Pixels.Clone();
        Assert.False(checker.CheckAndBlackOut(gradient));
        Assert.Equal(before, gradient.Pixels);
    }

    [Fact]
    public void Clip_features_are_centre_cropped_and_normalised()
    {
        // CLIPImageProcessor: 64×48 → shortest edge 224 → 298×224 (int(224·64/48)), centre crop 224; white →
        // (1 − 0.48145466)/0.26862954 = 1.9303 in channel 0.
        float[] planes = FeatureExtractor.Clip.Process(TestImages.Solid(64, 48, 255));

        Assert.Equal(3 * 224 * 224, planes.Length);
        Assert.Equal(1.9303, planes[0], 3);
    }

    [Fact]
    public void Enabled_checker_runs_on_every_image_and_reports_nsfw_false_for_unflagged_ones()
    {
        using var pipeline = StableDiffusionPipeline.Load(FolderWithChecker(), new ModelLoadOptions { ExecutionProvider = "cpu", SafetyChecker = true });

        var result = pipeline.Generate(Small with { NumOutputs = 2 });

        Assert.True(pipeline.Info.SafetyChecker);
        Assert.True(result.StageSeconds.ContainsKey("safety_checker"));
        Assert.All(result.Images, i => Assert.False(i.NsfwDetected));
    }

    [Fact]
    public void Flagged_images_come_back_black_marked_nsfw_and_unwatermarked()
    {
        // Lower the synthetic checker's threshold (the float 1.5 stored once in its graph) so that every image is
        // flagged, then run the whole pipeline: flagged images must be replaced by black ones.
        string dir = SyntheticModelCache.Copy("tiny");
        string source = FolderWithChecker();
        Directory.CreateDirectory(Path.Combine(dir, "safety_checker"));
        Directory.CreateDirectory(Path.Combine(dir, "feature_extractor"));
        File.Copy(Path.Combine(source, "feature_extractor", "preprocessor_config.json"), Path.Combine(dir, "feature_extractor", "preprocessor_config.json"));
        byte[] model = File.ReadAllBytes(Path.Combine(source, "safety_checker", "model.onnx"));
        byte[] threshold = BitConverter.GetBytes(1.5f);
        int at = model.AsSpan().IndexOf(threshold);
        Assert.True(at >= 0 && model.AsSpan(at + 4).IndexOf(threshold) < 0, "the synthetic checker's threshold 1.5 must appear exactly once");
        BitConverter.GetBytes(-1e9f).CopyTo(model, at);
        File.WriteAllBytes(Path.Combine(dir, "safety_checker", "model.onnx"), model);
        using var pipeline = StableDiffusionPipeline.Load(dir, new ModelLoadOptions { ExecutionProvider = "cpu", SafetyChecker = true });

        var result = pipeline.Generate(Small with { Width = 256, Height = 256, WatermarkPayload = "SDV2", NumOutputs = 2 });

        Assert.All(result.Images, image =>
        {
            Assert.True(image.NsfwDetected);
            Assert.False(image.Watermarked);
            Assert.All(TestImages.Pixels(image), p => Assert.Equal(0, p));
        });
        Assert.Contains(result.Logs, l => l.Contains("replaced by a black image", StringComparison.Ordinal));
    }

    [Fact]
    public void Checker_is_off_unless_enabled_at_load_and_can_be_skipped_per_request()
    {
        using var off = StableDiffusionPipeline.Load(FolderWithChecker(), new ModelLoadOptions { ExecutionProvider = "cpu" });
        using var on = StableDiffusionPipeline.Load(FolderWithChecker(), new ModelLoadOptions { ExecutionProvider = "cpu", SafetyChecker = true });

        Assert.False(off.Generate(Small).StageSeconds.ContainsKey("safety_checker"));
        Assert.False(on.Generate(Small with { SafetyChecker = false }).StageSeconds.ContainsKey("safety_checker"));
    }
}
