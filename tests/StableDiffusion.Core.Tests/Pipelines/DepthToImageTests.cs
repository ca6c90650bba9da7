using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class DepthToImageTests
{
    private static readonly GenerationSettings Depth = new()
    {
        Task = GenerationTask.DepthToImage,
        Prompt = "a stone bridge",
        Steps = 10,
        Seed = 2,
        PromptStrength = 0.5,
        WatermarkPayload = null,
        Image = TestImages.Gradient(64, 48),
    };

    [Fact]
    public void Depth_model_offers_depth_to_image_with_its_estimator()
    {
        using var pipeline = TestImages.Load("tiny-depth");

        Assert.Equal([GenerationTask.DepthToImage], pipeline.Info.Tasks);
        Assert.True(pipeline.Info.DepthEstimator);
        Assert.Equal(5, pipeline.Info.UnetInChannels);
    }

    [Fact]
    public void Estimated_depth_is_the_fifth_channel_normalised_to_minus_one_to_one()
    {
        using var pipeline = TestImages.Load("tiny-depth");
        float[]? first = null;

        var result = pipeline.Generate(Depth, new GenerationObserver { OnUNetSample = (_, s) => first ??= s });

        const int plane = 8 * 6;
        Assert.Equal(2 * 5 * plane, first!.Length);
        var depth = first.AsSpan(4 * plane, plane).ToArray();
        Assert.Equal(-1f, depth.Min(), 1e-5f);
        Assert.Equal(1f, depth.Max(), 1e-5f);
        Assert.Equal(depth, first.AsSpan(9 * plane, plane).ToArray());
        Assert.Equal(6, result.StepsRun);   // PNDM, 10 steps, strength 0.5
        Assert.True(result.StageSeconds.ContainsKey("depth"));
    }

    [Fact]
    public void User_depth_image_replaces_the_estimate()
    {
        using var pipeline = TestImages.Load("tiny-depth");
        var depthImage = InpaintTests.HalfMask(32, 32);
        float[]? first = null;

        pipeline.Generate(Depth with { DepthImage = depthImage }, new GenerationObserver { OnUNetSample = (_, s) => first ??= s });

        Assert.Equal(DepthMap.FromImage(depthImage, 6, 8), first!.AsSpan(4 * 48, 48).ToArray());
    }

    [Fact]
    public void Output_has_the_input_size_and_is_deterministic()
    {
        using var pipeline = TestImages.Load("tiny-depth");

        var a = pipeline.Generate(Depth);
        var b = pipeline.Generate(Depth);

        Assert.Equal((64, 48), (a.Images[0].Width, a.Images[0].Height));
        Assert.Equal(a.Images[0].Bytes, b.Images[0].Bytes);
    }
}
