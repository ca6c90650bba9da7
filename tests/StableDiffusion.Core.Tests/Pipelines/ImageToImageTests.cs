using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class ImageToImageTests
{
    private static readonly GenerationSettings Img2Img = new()
    {
        Task = GenerationTask.ImageToImage,
        Prompt = "a watercolour of a lighthouse",
        Steps = 10,
        Seed = 5,
        PromptStrength = 0.5,
        WatermarkPayload = null,
        Image = TestImages.Gradient(64, 64),
    };

    [Theory]
    // PNDM makes one call more than the steps it covers; progress reports the steps (diffusers' int(N × strength)).
    [InlineData("PNDM", 0.5, 6, 5)]
    [InlineData("PNDM", 0.8, 9, 8)]
    [InlineData("PNDM", 1.0, 11, 10)]
    [InlineData("DDIM", 0.5, 5, 5)]
    [InlineData("DDIM", 0.8, 8, 8)]
    [InlineData("K_EULER", 0.5, 5, 5)]
    [InlineData("K_EULER", 1.0, 10, 10)]
    [InlineData("K_EULER", 0.0, 0, 0)]
    [InlineData("PNDM", 0.0, 0, 0)]
    public void Strength_decides_the_number_of_unet_calls(string scheduler, double strength, int calls, int stepsReported)
    {
        using var pipeline = TestImages.Load("tiny");
        int observed = 0;

        var result = pipeline.Generate(Img2Img with { Scheduler = scheduler, PromptStrength = strength },
            new GenerationObserver { OnStep = _ => observed++ });

        Assert.Equal(calls, result.StepsRun);
        Assert.Equal(stepsReported, observed);
    }

    [Theory]
    [InlineData("PNDM")]
    [InlineData("DDIM")]
    [InlineData("K_EULER")]
    [InlineData("K_EULER_ANCESTRAL")]
    [InlineData("DPMSolverMultistep")]
    [InlineData("KarrasDPM")]
    [InlineData("LMS")]
    public void Every_scheduler_runs_img2img_from_a_late_start(string scheduler)
    {
        using var pipeline = TestImages.Load("tiny");

        var result = pipeline.Generate(Img2Img with { Scheduler = scheduler, PromptStrength = 0.6 });

        Assert.Equal((64, 64), (result.Images[0].Width, result.Images[0].Height));
        Assert.InRange(result.StepsRun, 6, 7);
        Assert.True(result.StageSeconds.ContainsKey("vae_encode"));
    }

    [Fact]
    public void Same_seed_gives_identical_images_and_batch_member_k_equals_seed_plus_k_alone()
    {
        using var pipeline = TestImages.Load("tiny");

        var batch = pipeline.Generate(Img2Img with { NumOutputs = 2 });
        var again = pipeline.Generate(Img2Img with { NumOutputs = 2 });
        var alone = pipeline.Generate(Img2Img with { Seed = Img2Img.Seed + 1 });

        Assert.Equal(batch.Images[0].Bytes, again.Images[0].Bytes);
        Assert.Equal(alone.Images[0].Bytes, batch.Images[1].Bytes);
        Assert.NotEqual(TestImages.Pixels(batch.Images[0]), TestImages.Pixels(batch.Images[1]));
    }

    [Fact]
    public void Output_defaults_to_the_input_size_rounded_down_to_a_multiple_of_8()
    {
        using var pipeline = TestImages.Load("tiny");

        var image = pipeline.Generate(Img2Img with { Image = TestImages.Gradient(70, 45), Steps = 2 }).Images[0];

        Assert.Equal((64, 40), (image.Width, image.Height));
    }

    [Fact]
    public void Requested_size_resizes_the_input()
    {
        using var pipeline = TestImages.Load("tiny");

        var image = pipeline.Generate(Img2Img with { Width = 96, Height = 32, Steps = 2 }).Images[0];

        Assert.Equal((96, 32), (image.Width, image.Height));
    }

    [Fact]
    public void Strength_zero_reencodes_the_image_without_noise()
    {
        // tiny-sd1's encoder outputs latent_sample (no posterior sampling): with no denoising step the output is
        // decode(encode(image)) whatever the seed.
        using var pipeline = TestImages.Load("tiny-sd1");
        var settings = Img2Img with { PromptStrength = 0 };

        var a = pipeline.Generate(settings);
        var b = pipeline.Generate(settings with { Seed = 99 });

        Assert.Equal(0, a.StepsRun);
        Assert.Equal(TestImages.Pixels(a.Images[0]), TestImages.Pixels(b.Images[0]));
    }

    [Fact]
    public void Strength_one_follows_the_txt2img_schedule_but_starts_from_the_noised_image()
    {
        // diffusers' img2img at strength 1 starts from add_noise(x0, ε, t0) = √ᾱ·x0 + √(1−ᾱ)·ε (DDIM), not from ε as
        // txt2img does. With a latent_sample encoder (tiny-sd1) ε is the first draw of the seed, the same ε txt2img
        // draws, so img2img_sample − √(1−ᾱ_901)·txt2img_sample = √ᾱ_901·x0 must not depend on the seed.
        using var pipeline = TestImages.Load("tiny-sd1");
        var settings = Img2Img with { Scheduler = "DDIM", PromptStrength = 1.0, GuidanceScale = 1.0, Steps = 10 };
        float alpha = AlphaCumprod(901);
        float c = MathF.Sqrt(1f - alpha);

        float[] Difference(long seed)
        {
            float[] img = FirstSample(pipeline, settings with { Seed = seed });
            float[] txt = FirstSample(pipeline, settings with { Task = GenerationTask.TextToImage, Image = null, Width = 64, Height = 64, Seed = seed });
            Assert.Equal(txt.Length, img.Length);
            return [.. img.Zip(txt, (i, t) => i - c * t)];
        }

        var d1 = Difference(1);
        var d2 = Difference(2);

        Assert.Equal(4 * 8 * 8, d1.Length);
        for (int i = 0; i < d1.Length; i++)
        {
            Assert.Equal(d1[i], d2[i], 1e-4f);
        }

        // ... and the image contributes: the difference is not zero.
        Assert.True(d1.Max(MathF.Abs) > 0.01f);
    }

    [Fact]
    public void Strength_one_runs_as_many_calls_as_txt2img()
    {
        using var pipeline = TestImages.Load("tiny");

        var img = pipeline.Generate(Img2Img with { PromptStrength = 1.0 });
        var txt = pipeline.Generate(Img2Img with { Task = GenerationTask.TextToImage, Image = null, Width = 64, Height = 64 });

        Assert.Equal(txt.StepsRun, img.StepsRun);
    }

    [Fact]
    public void Float16_model_runs_img2img_and_inpainting()
    {
        using var pipeline = StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny", fp16: true), new Core.Models.ModelLoadOptions { ExecutionProvider = "cpu" });

        var img = pipeline.Generate(Img2Img);
        var inpaint = pipeline.Generate(Img2Img with { Task = GenerationTask.Inpaint, Mask = InpaintTests.HalfMask(64, 64) });

        Assert.Equal(6, img.StepsRun);   // PNDM, 10 steps, strength 0.5
        Assert.Equal(6, inpaint.StepsRun);
    }

    [Fact]
    public void Missing_image_is_an_argument_error_naming_the_field()
    {
        using var pipeline = TestImages.Load("tiny");

        var ex = Assert.Throws<ArgumentException>(() => pipeline.Generate(Img2Img with { Image = null }));

        Assert.Equal("image", ex.ParamName);
    }

    [Fact]
    public void Parameters_carry_the_denoising_strength()
    {
        using var pipeline = TestImages.Load("tiny");

        var png = pipeline.Generate(Img2Img with { ModelName = "m" }).Images[0].Bytes;

        Assert.EndsWith("Denoising strength: 0.5", Core.Imaging.PngWriter.ReadParameters(png), StringComparison.Ordinal);
    }

    /// <summary>The latent channels of image 0 at the first UNet call.</summary>
    internal static float[] FirstSample(StableDiffusionPipeline pipeline, GenerationSettings settings, int channels = 4)
    {
        float[]? first = null;
        pipeline.Generate(settings, new GenerationObserver { OnUNetSample = (_, s) => first ??= s });
        int perChannel = first!.Length / (settings.GuidanceScale > 1 ? 2 : 1) / settings.NumOutputs / pipeline.Info.UnetInChannels;
        return first.AsSpan(0, channels * perChannel).ToArray();
    }

    // ᾱ_t of the SD config (scaled_linear 0.00085 → 0.012 over 1000 steps), in double: the tolerance absorbs float32.
    internal static float AlphaCumprod(int t)
    {
        double product = 1;
        double s0 = Math.Sqrt(0.00085), s1 = Math.Sqrt(0.012);
        for (int i = 0; i <= t; i++)
        {
            double b = s0 + (s1 - s0) * i / 999.0;
            product *= 1 - b * b;
        }

        return (float)product;
    }
}
