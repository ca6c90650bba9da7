using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class InpaintTests
{
    private static readonly GenerationSettings Inpaint = new()
    {
        Task = GenerationTask.Inpaint,
        Prompt = "a red door",
        Steps = 6,
        Seed = 3,
        PromptStrength = 1.0,
        WatermarkPayload = null,
        Image = TestImages.Gradient(64, 64),
        Mask = HalfMask(64, 64),
    };

    [Fact]
    public void Mask_is_binarised_at_one_half()
    {
        // 127/255 = 0.498 → keep; 128/255 = 0.502 → repaint (diffusers: mask[mask < 0.5] = 0, mask[mask >= 0.5] = 1).
        var mask = RgbImage.Create(2, 1);
        mask.Pixels.AsSpan(0, 3).Fill(127);
        mask.Pixels.AsSpan(3, 3).Fill(128);

        var prepared = InpaintMask.Prepare(mask, 2, 1, 1, 1);

        Assert.Equal([0f, 1f], prepared.Pixels);
    }

    [Fact]
    public void Mask_colours_go_through_pil_luma_first()
    {
        // PIL "L" of pure red = (255·19595 + 2^15) >> 16 = 76 → 0.298 → keep; pure green = 150 → 0.588 → repaint.
        var mask = RgbImage.Create(2, 1);
        mask.Pixels[0] = 255;
        mask.Pixels[4] = 255;

        var prepared = InpaintMask.Prepare(mask, 2, 1, 1, 1);

        Assert.Equal([0f, 1f], prepared.Pixels);
    }

    [Fact]
    public void Latent_mask_takes_the_top_left_pixel_of_each_8x8_block()
    {
        // torch.nn.functional.interpolate(mode="nearest") from 16×16 to 2×2 reads input (8i, 8j):
        //   block (0,0) all white            → 1
        //   block (0,1) only its (0,0) white → 1 (one pixel decides; no averaging)
        //   block (1,0) white but its (0,0)  → 0
        //   block (1,1) grey 128 everywhere  → 1 (binarised before downsampling)
        var mask = RgbImage.Create(16, 16);
        void Set(int x, int y, byte v) => mask.Pixels.AsSpan((y * 16 + x) * 3, 3).Fill(v);
        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                Set(x, y, 255);
                Set(x, y + 8, 255);
                Set(x + 8, y + 8, 128);
            }
        }

        Set(8, 0, 255);
        Set(0, 8, 0);

        var prepared = InpaintMask.Prepare(mask, 16, 16, 2, 2);

        Assert.Equal([1f, 1f, 0f, 1f], prepared.Latent);
    }

    [Fact]
    public void Masked_image_zeroes_the_repainted_pixels_in_minus_one_to_one_space()
    {
        var mask = InpaintMask.Prepare(HalfMask(8, 8), 8, 8, 1, 1);
        float[] planes = ImageTensors.ToPlanes(TestImages.Solid(8, 8, 255));

        float[] masked = mask.MaskImage(planes);

        // Left half kept (white = 1.0), right half repainted → 0 (grey), in all three planes.
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(1f, masked[c * 64 + 2 * 8 + 3]);
            Assert.Equal(0f, masked[c * 64 + 2 * 8 + 5]);
        }
    }

    [Fact]
    public void Inpaint_channels_are_mask_then_masked_image_latents_per_image()
    {
        float[] mask = [1, 0, 0, 1];
        float[] masked = [.. Enumerable.Range(0, 2 * 4 * 4).Select(i => (float)(i + 10))];

        float[] extra = StableDiffusionPipeline.InpaintChannels(mask, masked, images: 2);

        // diffusers: torch.cat([latents, mask, masked_image_latents], dim=1) → after the 4 latent channels, per image:
        // [mask (1), masked latents (4)].
        Assert.Equal(2 * 5 * 4, extra.Length);
        Assert.Equal(mask, extra[..4]);
        Assert.Equal(masked[..16], extra[4..20]);
        Assert.Equal(mask, extra[20..24]);
        Assert.Equal(masked[16..32], extra[24..40]);
    }

    [Fact]
    public void Legacy_inpainting_with_an_all_black_mask_gives_back_the_encoded_image()
    {
        // 4-channel model: after the last step the known region is the un-noised image latents, so a mask that keeps
        // everything yields decode(image latents) — exactly img2img at strength 0 with the same seed (same posterior draw).
        using var pipeline = TestImages.Load("tiny");

        var inpainted = pipeline.Generate(Inpaint with { Mask = TestImages.Solid(64, 64, 0) });
        var reencoded = pipeline.Generate(Inpaint with { Task = GenerationTask.ImageToImage, Mask = null, PromptStrength = 0 });

        Assert.Equal(7, inpainted.StepsRun);
        Assert.Equal(TestImages.Pixels(reencoded.Images[0]), TestImages.Pixels(inpainted.Images[0]));
    }

    [Fact]
    public void Legacy_inpainting_puts_the_known_latents_back_after_every_step()
    {
        // latents = (1 − m)·add_noise(x0, ε, t_next) + m·latents: in the kept half (latent columns 0–3) the UNet input
        // depends only on the image and the seed, not on the prompt; in the repainted half (columns 4–7) it does.
        // (Pixels cannot show this: the tiny VAE decoder's GroupNorm mixes the whole image.)
        using var pipeline = TestImages.Load("tiny");
        var lastA = LastSample(pipeline, Inpaint);
        var lastB = LastSample(pipeline, Inpaint with { Prompt = "a blue window" });

        double kept = 0, repainted = 0;
        for (int c = 0; c < 4; c++)
        {
            for (int y = 0; y < 8; y++)
            {
                for (int x = 0; x < 8; x++)
                {
                    int i = c * 64 + y * 8 + x;
                    double d = Math.Abs(lastA[i] - lastB[i]);
                    if (x < 4)
                    {
                        kept = Math.Max(kept, d);
                    }
                    else
                    {
                        repainted = Math.Max(repainted, d);
                    }
                }
            }
        }

        Assert.Equal(0, kept);
        Assert.True(repainted > 1e-3, $"repainted half moved by only {repainted}");
    }

    private static float[] LastSample(StableDiffusionPipeline pipeline, GenerationSettings settings)
    {
        float[]? last = null;
        pipeline.Generate(settings, new GenerationObserver { OnUNetSample = (_, s) => last = s });
        return last!.AsSpan(0, 4 * 64).ToArray();
    }

    [Theory]
    [InlineData("PNDM")]
    [InlineData("K_EULER")]
    public void Strength_one_starts_exactly_where_txt2img_starts(string scheduler)
    {
        // diffusers' is_strength_max: latents = ε·init_noise_sigma, the txt2img start. With a latent_sample encoder
        // (tiny-sd1: no posterior draw before ε) the first UNet input is bit-identical to txt2img's for the same seed.
        using var pipeline = TestImages.Load("tiny-sd1");
        var settings = Inpaint with { Scheduler = scheduler };

        float[] inpaint = ImageToImageTests.FirstSample(pipeline, settings);
        float[] txt2img = ImageToImageTests.FirstSample(pipeline, settings with { Task = GenerationTask.TextToImage, Image = null, Mask = null, Width = 64, Height = 64 });

        Assert.Equal(txt2img, inpaint);
    }

    [Theory]
    [InlineData(1.0, 7)]
    [InlineData(0.5, 4)]
    public void Legacy_inpainting_honours_strength(double strength, int calls)
    {
        using var pipeline = TestImages.Load("tiny");

        var result = pipeline.Generate(Inpaint with { PromptStrength = strength });

        Assert.Equal(calls, result.StepsRun);
    }

    [Fact]
    public void Missing_mask_is_an_argument_error_naming_the_field()
    {
        using var pipeline = TestImages.Load("tiny");

        var ex = Assert.Throws<ArgumentException>(() => pipeline.Generate(Inpaint with { Mask = null }));

        Assert.Equal("mask", ex.ParamName);
    }

    /// <summary>White (repaint) right half, black (keep) left half.</summary>
    internal static RgbImage HalfMask(int width, int height)
    {
        var mask = RgbImage.Create(width, height);
        for (int y = 0; y < height; y++)
        {
            mask.Pixels.AsSpan((y * width + width / 2) * 3, (width - width / 2) * 3).Fill(255);
        }

        return mask;
    }
}
