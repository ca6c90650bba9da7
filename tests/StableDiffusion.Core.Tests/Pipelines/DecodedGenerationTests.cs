using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Pipelines;

/// <summary>Render (device part) then Finish (watermark, encode) is Generate, and Finish needs no ONNX session.</summary>
public sealed class DecodedGenerationTests
{
    private static readonly GenerationSettings Settings = new()
    {
        Prompt = "a lighthouse",
        Width = 256,
        Height = 256,
        Steps = 2,
        Seed = 11,
        NumOutputs = 2,
        WatermarkPayload = "SDV2",
    };

    private static StableDiffusionPipeline Tiny() =>
        StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"), new ModelLoadOptions { ExecutionProvider = "cpu" });

    [Fact]
    public void Render_then_finish_gives_generates_bytes()
    {
        using var pipeline = Tiny();
        var whole = pipeline.Generate(Settings);

        var split = pipeline.Render(Settings).Finish();

        Assert.Equal(whole.Images.Select(i => i.Bytes), split.Images.Select(i => i.Bytes));
        Assert.All(split.Images, i => Assert.True(i.Watermarked));
    }

    [Fact]
    public void Finish_runs_no_onnx_session_and_may_follow_the_next_render()
    {
        using var pipeline = Tiny();
        var expected = pipeline.Generate(Settings).Images[0].Bytes;
        var pending = pipeline.Render(Settings);
        pipeline.Render(Settings with { Seed = 99 }); // the device moved on to the next job
        long runs = pipeline.Components.Sum(c => c.RunCount);

        var result = pending.Finish();

        Assert.Equal(runs, pipeline.Components.Sum(c => c.RunCount));
        Assert.Equal(expected, result.Images[0].Bytes);
        Assert.True(result.StageSeconds.ContainsKey("watermark") && result.StageSeconds.ContainsKey("png"));
        Assert.False(pending.StageSeconds.ContainsKey("png"));
    }

    [Fact]
    public void Rendered_images_carry_their_seed_and_parameters_before_encoding()
    {
        using var pipeline = Tiny();

        var pending = pipeline.Render(Settings);

        Assert.Equal([11L, 12L], pending.Images.Select(i => i.Seed));
        Assert.Contains("Seed: 12", pending.Images[1].Parameters, StringComparison.Ordinal);
        Assert.Equal(PngWriter.ReadParameters(pending.Finish().Images[1].Bytes), pending.Images[1].Parameters);
    }
}
