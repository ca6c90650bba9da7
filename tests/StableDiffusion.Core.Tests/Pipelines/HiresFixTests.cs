using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class HiresFixTests
{
    private static readonly GenerationSettings Plain = new()
    {
        Prompt = "a lighthouse at dusk",
        NegativePrompt = "blurry",
        Width = 64,
        Height = 64,
        Steps = 3,
        Seed = 7,
        Scheduler = "K_EULER",
        WatermarkPayload = null,
    };

    private static StableDiffusionPipeline Tiny() =>
        StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"), new ModelLoadOptions { ExecutionProvider = "cpu" });

    private static (GenerationResult Result, List<float[]> Samples) Run(StableDiffusionPipeline pipeline, GenerationSettings settings)
    {
        var samples = new List<float[]>();
        var result = pipeline.Generate(settings, new GenerationObserver { OnUNetSample = (_, s) => samples.Add(s) });
        return (result, samples);
    }

    private static Rgb24[] Pixels(byte[] png)
    {
        using var image = Image.Load<Rgb24>(png);
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }

    [Theory]
    [InlineData(HiresUpscaler.Latent)]
    [InlineData(HiresUpscaler.Lanczos)]
    public void First_pass_is_the_plain_txt2img_and_the_output_has_the_hires_size(HiresUpscaler upscaler)
    {
        using var pipeline = Tiny();
        var hires = Plain with { HiresFix = new HiresFix(128, 96, upscaler, upscaler.ToString(), 0.5, 4, null) };

        var (plain, plainSamples) = Run(pipeline, Plain);
        var (fixedUp, hiresSamples) = Run(pipeline, hires);

        // Every UNet input of the first pass equals the plain run's, bit for bit; then the second pass runs at 128x96.
        Assert.Equal(plainSamples, hiresSamples.Take(Plain.Steps));
        Assert.Equal(Plain.Steps + 2, hiresSamples.Count); // strength 0.5 of 4 steps: the last 2 run (diffusers' img2img)
        Assert.Equal(2 * 4 * 12 * 16, hiresSamples[^1].Length); // [uncond + cond, 4, 96/8, 128/8]
        Assert.Equal((128, 96), (fixedUp.Images[0].Width, fixedUp.Images[0].Height));
        Assert.Equal((64, 64), (plain.Images[0].Width, plain.Images[0].Height));
    }

    [Fact]
    public void Latent_hires_at_the_same_size_with_no_denoising_is_the_plain_image()
    {
        using var pipeline = Tiny();
        var same = Plain with { HiresFix = new HiresFix(64, 64, HiresUpscaler.Latent, "Latent", 0.0, 0, 1.0) };

        var plain = pipeline.Generate(Plain).Images[0];
        var fixedUp = pipeline.Generate(same).Images[0];

        // Bilinear at scale 1 is the identity and strength 0 runs no step: the decoded first pass comes out.
        Assert.Equal(Pixels(plain.Bytes), Pixels(fixedUp.Bytes));
        Assert.NotEqual(plain.Bytes, fixedUp.Bytes); // only the infotext differs
    }

    [Fact]
    public void Infotext_names_the_hires_fields_as_a1111_writes_them()
    {
        using var pipeline = Tiny();
        var hires = Plain with { HiresFix = new HiresFix(128, 128, HiresUpscaler.LatentNearest, "Latent (nearest)", 0.7, 2, 2.0) };

        var text = PngWriter.ReadParameters(pipeline.Generate(hires).Images[0].Bytes)!;

        Assert.Contains("Size: 64x64", text);
        Assert.EndsWith(", Denoising strength: 0.7, Hires upscale: 2, Hires steps: 2, Hires upscaler: Latent (nearest)", text);
    }

    [Fact]
    public void A_model_upscaler_gets_each_decoded_first_pass_image_and_its_output_is_resized_to_the_final_size()
    {
        using var pipeline = Tiny();
        var seen = new List<(int Width, int Height)>();
        RgbImage FourTimes(RgbImage image, CancellationToken _)
        {
            seen.Add((image.Width, image.Height));
            return ImageResizer.Resize(image, image.Width * 4, image.Height * 4, SixLabors.ImageSharp.Processing.KnownResamplers.NearestNeighbor);
        }

        var hires = new HiresFix(96, 80, HiresUpscaler.Model, "SD x4 (test)", 0.5, 2, null) { UpscalerModel = "test", ImageUpscaler = FourTimes };
        var result = pipeline.Generate(Plain with { NumOutputs = 2, HiresFix = hires });

        Assert.Equal([(64, 64), (64, 64)], seen);
        Assert.All(result.Images, i => Assert.Equal((96, 80), (i.Width, i.Height)));
        Assert.True(result.StageSeconds.ContainsKey("upscale_model"));
    }

    [Fact]
    public void A_model_upscaler_without_its_model_attached_is_refused()
    {
        using var pipeline = Tiny();
        var hires = new HiresFix(96, 96, HiresUpscaler.Model, "SD x4 (gone)", 0.5, 2, null) { UpscalerModel = "gone" };

        var error = Assert.Throws<NotSupportedException>(() => pipeline.Generate(Plain with { HiresFix = hires }));
        Assert.Contains("SD x4 (gone)", error.Message);
    }
}
