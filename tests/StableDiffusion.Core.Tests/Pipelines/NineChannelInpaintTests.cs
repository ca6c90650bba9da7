using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Randomness;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class NineChannelInpaintTests
{
    private static readonly GenerationSettings Inpaint = new()
    {
        Task = GenerationTask.Inpaint,
        Prompt = "a red door",
        Steps = 10,
        Seed = 11,
        PromptStrength = 1.0,
        WatermarkPayload = null,
        Image = TestImages.Gradient(64, 64),
        Mask = InpaintTests.HalfMask(64, 64),
    };

    [Fact]
    public void Inpainting_unet_offers_inpainting_only()
    {
        using var pipeline = TestImages.Load("tiny-inpaint");

        Assert.Equal([GenerationTask.Inpaint], pipeline.Info.Tasks);
        Assert.Equal(9, pipeline.Info.UnetInChannels);
        var ex = Assert.Throws<NotSupportedException>(() => pipeline.Generate(Inpaint with { Task = GenerationTask.TextToImage }));
        Assert.Contains("cannot do text-to-image", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unet_sample_is_latents_then_mask_then_masked_image_latents_in_both_guidance_halves()
    {
        using var pipeline = TestImages.Load("tiny-inpaint");
        float[]? first = null;

        pipeline.Generate(Inpaint, new GenerationObserver { OnUNetSample = (_, s) => first ??= s });

        const int plane = 8 * 8;
        Assert.Equal(2 * 9 * plane, first!.Length);
        // Channels 0–3 at strength 1: diffusers' is_strength_max start, ε·init_noise_sigma (PNDM: 1), ε the seed's first draw.
        var noise = new float[4 * plane];
        new TorchCpuGenerator((ulong)Inpaint.Seed).Fill(noise);
        Assert.Equal(noise, first.AsSpan(0, 4 * plane).ToArray());
        // Channel 4: the half mask at latent size (columns 4–7 repaint).
        for (int half = 0; half < 2; half++)
        {
            var mask = first.AsSpan(half * 9 * plane + 4 * plane, plane).ToArray();
            Assert.Equal(Enumerable.Range(0, plane).Select(i => i % 8 >= 4 ? 1f : 0f), mask);
        }

        // Channels 5–8: the same masked-image latents in both halves.
        Assert.Equal(first.AsSpan(5 * plane, 4 * plane).ToArray(), first.AsSpan(9 * plane + 5 * plane, 4 * plane).ToArray());
    }

    [Fact]
    public void Conditioning_channels_are_the_same_at_every_call()
    {
        using var pipeline = TestImages.Load("tiny-inpaint");
        var samples = new List<float[]>();

        pipeline.Generate(Inpaint with { Steps = 3 }, new GenerationObserver { OnUNetSample = (_, s) => samples.Add(s) });

        const int plane = 8 * 8;
        Assert.Equal(4, samples.Count);
        Assert.All(samples, s => Assert.Equal(samples[0].AsSpan(4 * plane, 5 * plane).ToArray(), s.AsSpan(4 * plane, 5 * plane).ToArray()));
        Assert.NotEqual(samples[0].AsSpan(0, 4 * plane).ToArray(), samples[^1].AsSpan(0, 4 * plane).ToArray());
    }

    [Fact]
    public void Masked_image_ignores_the_pixels_under_the_white_mask()
    {
        // masked_image = image · (mask < 0.5): changing the image only where the mask is white leaves channels 5–8
        // unchanged; changing it where the mask is black changes them.
        using var pipeline = TestImages.Load("tiny-inpaint");
        var baseImage = TestImages.Gradient(64, 64);
        var underMask = baseImage with { Pixels = (byte[])baseImage.Pixels.Clone() };
        var outsideMask = baseImage with { Pixels = (byte[])baseImage.Pixels.Clone() };
        for (int y = 0; y < 64; y++)
        {
            underMask.Pixels[(y * 64 + 50) * 3] = 0;
            outsideMask.Pixels[(y * 64 + 10) * 3] = 0;
        }

        float[] MaskedLatents(Core.Imaging.RgbImage image)
        {
            float[]? first = null;
            pipeline.Generate(Inpaint with { Image = image, Steps = 1 }, new GenerationObserver { OnUNetSample = (_, s) => first ??= s });
            return first!.AsSpan(5 * 64, 4 * 64).ToArray();
        }

        var reference = MaskedLatents(baseImage);

        Assert.Equal(reference, MaskedLatents(underMask));
        Assert.NotEqual(reference, MaskedLatents(outsideMask));
    }

    [Theory]
    [InlineData(1.0, 11)]
    [InlineData(0.5, 6)]
    public void Strength_decides_the_calls(double strength, int calls)
    {
        using var pipeline = TestImages.Load("tiny-inpaint");

        var result = pipeline.Generate(Inpaint with { PromptStrength = strength });

        Assert.Equal(calls, result.StepsRun);
        Assert.Equal((64, 64), (result.Images[0].Width, result.Images[0].Height));
    }

    [Fact]
    public void Batch_member_k_equals_seed_plus_k_alone()
    {
        using var pipeline = TestImages.Load("tiny-inpaint");

        var batch = pipeline.Generate(Inpaint with { NumOutputs = 2, Steps = 3, PromptStrength = 0.7 });
        var alone = pipeline.Generate(Inpaint with { Seed = Inpaint.Seed + 1, Steps = 3, PromptStrength = 0.7 });

        Assert.Equal(alone.Images[0].Bytes, batch.Images[1].Bytes);
    }
}
