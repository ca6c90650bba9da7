using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Randomness;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class UpscaleTests
{
    private static readonly GenerationSettings Upscale = new()
    {
        Task = GenerationTask.Upscale,
        Prompt = "a cat",
        Steps = 4,
        Seed = 9,
        WatermarkPayload = null,
        Image = TestImages.Gradient(40, 24),
    };

    [Fact]
    public void Upscaler_offers_upscaling_only_and_reads_its_low_res_scheduler()
    {
        using var pipeline = TestImages.Load("tiny-upscale");

        Assert.Equal([GenerationTask.Upscale], pipeline.Info.Tasks);
        Assert.Equal(7, pipeline.Info.UnetInChannels);
        Assert.Equal(4, pipeline.Info.LatentFactor);
        Assert.Equal(0.08333, pipeline.Folder.ScalingFactor, 5);
        Assert.NotNull(pipeline.Folder.LowResScheduler);
    }

    [Theory]
    [InlineData(40, 24, 160, 96)]
    [InlineData(42, 30, 160, 96)]   // rounded down to multiples of 8 first
    public void Output_is_four_times_the_input(int width, int height, int outWidth, int outHeight)
    {
        using var pipeline = TestImages.Load("tiny-upscale");

        var image = pipeline.Generate(Upscale with { Image = TestImages.Gradient(width, height) }).Images[0];

        Assert.Equal((outWidth, outHeight), (image.Width, image.Height));
    }

    [Fact]
    public void Unet_sample_is_latents_then_the_ddpm_noised_low_res_image()
    {
        // diffusers' order per image: ε₁ [3, h, w] noises the low-res image with low_res_scheduler.add_noise at
        // noise_level, then ε₂ [4, h, w]·init_noise_sigma are the latents (DDIM: sigma 1).
        using var pipeline = TestImages.Load("tiny-upscale");
        float[]? first = null;
        var settings = Upscale with { NoiseLevel = 20, GuidanceScale = 1.0 };

        pipeline.Generate(settings, new GenerationObserver { OnUNetSample = (_, s) => first ??= s });

        int plane = 40 * 24;
        var generator = new TorchCpuGenerator((ulong)settings.Seed);
        var lowNoise = new float[3 * plane];
        var latentNoise = new float[4 * plane];
        generator.Fill(lowNoise);
        generator.Fill(latentNoise);
        float[] low = ImageTensors.ToPlanes(settings.Image!);
        var expected = new float[3 * plane];
        new LowResNoise(pipeline.Folder.LowResScheduler!).Add(low, lowNoise, 20, expected);

        Assert.Equal(7 * plane, first!.Length);
        Assert.Equal(latentNoise, first.AsSpan(0, 4 * plane).ToArray());
        Assert.Equal(expected, first.AsSpan(4 * plane, 3 * plane).ToArray());
    }

    [Fact]
    public void Low_res_noise_follows_the_ddpm_schedule()
    {
        // DDPM betas 0.0001 → 0.02 scaled_linear (x4 upscaler's low_res_scheduler): ᾱ_20 = Π(1 − β_i), i ≤ 20.
        var config = new SchedulerConfig { BetaStart = 0.0001, BetaEnd = 0.02, BetaSchedule = "scaled_linear" };
        double product = 1;
        for (int i = 0; i <= 20; i++)
        {
            double b = Math.Sqrt(0.0001) + (Math.Sqrt(0.02) - Math.Sqrt(0.0001)) * i / 999.0;
            product *= 1 - b * b;
        }

        Assert.Equal(product, new LowResNoise(config).AlphaCumprod(20), 5);
    }

    [Fact]
    public void Noise_level_above_the_models_maximum_is_an_argument_error()
    {
        using var pipeline = TestImages.Load("tiny-upscale");

        var ex = Assert.Throws<ArgumentException>(() => pipeline.Generate(Upscale with { NoiseLevel = 351 }));

        Assert.Contains("between 0 and 350", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Large_inputs_are_upscaled_in_blended_tiles()
    {
        using var pipeline = TestImages.Load("tiny-upscale", new ModelLoadOptions { MaxUpscaleLatentPixels = 16 * 16, UpscaleTileOverlap = 4 });

        var result = pipeline.Generate(Upscale);
        var again = pipeline.Generate(Upscale);

        Assert.Equal((160, 96), (result.Images[0].Width, result.Images[0].Height));
        Assert.Contains(result.Logs, l => l.Contains("running 6 tiles of 16x16", StringComparison.Ordinal));
        Assert.Equal(result.Images[0].Bytes, again.Images[0].Bytes);
    }

    [Fact]
    public void Upscaler_refuses_img2img()
    {
        using var pipeline = TestImages.Load("tiny-upscale");

        Assert.Throws<NotSupportedException>(() => pipeline.Generate(Upscale with { Task = GenerationTask.ImageToImage }));
    }
}
