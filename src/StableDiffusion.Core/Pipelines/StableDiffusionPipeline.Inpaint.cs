using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Pipelines;

/// <summary>Inpainting (diffusers' StableDiffusionInpaintPipeline, both its 9-channel and its 4-channel paths).</summary>
public sealed partial class StableDiffusionPipeline
{
    /// <remarks>
    /// Image: as img2img. Mask: see <see cref="InpaintMask.Prepare"/> (white = repaint, binarised at 0.5, nearest
    /// down to latent size). Start latents: ε·init_noise_sigma at strength 1 (diffusers' <c>is_strength_max</c>: pure
    /// noise, so strength 1 starts exactly as text-to-image with the same seed), else add_noise(image latents, ε, t₀).
    /// 9-channel UNet: input = [scaled latents (4), mask (1), masked-image latents (4)], the masked image being
    /// image·(mask &lt; 0.5), encoded and scaled. 4-channel UNet ("legacy" inpainting): after each step the known region
    /// is put back, latents = (1 − m)·add_noise(image latents, ε, t_next) + m·latents, with the un-noised image latents
    /// after the last step. Noise per image: [image posterior ε (when encoded)], start ε, [masked-image posterior ε].
    /// </remarks>
    private DecodedGeneration Inpaint(GenerationSettings settings, GenerationObserver? observer, CancellationToken cancellationToken)
    {
        var input = Require(settings.Image, "image", settings.Task);
        var maskImage = Require(settings.Mask, "mask", settings.Task);
        RejectLatents(settings);
        var (defaultWidth, defaultHeight) = DefaultSize(input);
        var run = new GenerationRun(this, settings, observer, defaultWidth, defaultHeight);
        using var activity = CoreTelemetry.ActivitySource.StartActivity("generate");
        activity?.SetTag("sd.model", Info.Name);
        activity?.SetTag("sd.task", "inpaint");

        var scheduler = CreateScheduler(settings);
        int images = settings.NumOutputs;
        bool legacy = _unet.InChannels == 4;
        bool strengthMax = settings.PromptStrength >= 1.0;
        float[] hidden = run.Stage("text_encoder", () => EncodePrompts(settings, images, settings.GuidanceScale > 1.0, run.Log));
        var noise = run.CreateNoise();
        float[] planes = InputPlanes(input, run);
        var mask = InpaintMask.Prepare(maskImage, run.Width, run.Height, run.LatentWidth, run.LatentHeight);
        int start = StrengthSchedule.StartIndex(settings.Steps, settings.PromptStrength, scheduler.Timesteps.Count, scheduler.Order);

        float[]? imageLatents = legacy || !strengthMax ? run.Stage("vae_encode", () => EncodeLatents(planes, run, images, noise)) : null;
        float[] latents, drawn;
        if (strengthMax)
        {
            drawn = new float[images * 4 * run.LatentHeight * run.LatentWidth];
            noise.Fill(drawn);
            latents = (float[])drawn.Clone();
            Scale(latents, scheduler.InitNoiseSigma);
        }
        else
        {
            latents = NoiseAt(scheduler, imageLatents!, start, noise, out drawn);
        }

        float[] extra = [];
        Action<int, Span<float>>? afterStep = null;
        if (legacy)
        {
            afterStep = LegacyBlend(scheduler, imageLatents!, drawn, mask, images);
        }
        else
        {
            float[] maskedLatents = run.Stage("vae_encode", () => EncodeLatents(mask.MaskImage(planes), run, images, noise));
            extra = InpaintChannels(mask.Latent, maskedLatents, images);
        }

        int stepsRun = Denoise(run, settings, scheduler, hidden, latents, start, noise, extra, afterStep, null, observer, cancellationToken);
        return run.Finish(latents, scheduler.Name, stepsRun, cancellationToken);
    }

    /// <summary>Per image [mask (1), masked-image latents (4)] — the channels after the latents, in diffusers'
    /// <c>torch.cat([latent_model_input, mask, masked_image_latents], dim=1)</c> order.</summary>
    internal static float[] InpaintChannels(ReadOnlySpan<float> latentMask, ReadOnlySpan<float> maskedLatents, int images)
    {
        int plane = latentMask.Length;
        var extra = new float[images * 5 * plane];
        for (int n = 0; n < images; n++)
        {
            latentMask.CopyTo(extra.AsSpan(n * 5 * plane));
            maskedLatents.Slice(n * 4 * plane, 4 * plane).CopyTo(extra.AsSpan(n * 5 * plane + plane));
        }

        return extra;
    }

    /// <summary>The 4-channel inpainting blend after step i (diffusers: noise at <c>timesteps[i + 1]</c>, none after the last).</summary>
    private static Action<int, Span<float>> LegacyBlend(Schedulers.IScheduler scheduler, float[] imageLatents, float[] noise, InpaintMask mask, int images)
    {
        var proper = new float[imageLatents.Length];
        int plane = mask.Latent.Length;
        return (i, latents) =>
        {
            if (i < scheduler.Timesteps.Count - 1)
            {
                scheduler.AddNoise(imageLatents, noise, i + 1, proper);
            }
            else
            {
                imageLatents.CopyTo(proper, 0);
            }

            for (int n = 0; n < images; n++)
            {
                for (int c = 0; c < 4; c++)
                {
                    int offset = (n * 4 + c) * plane;
                    for (int p = 0; p < plane; p++)
                    {
                        float m = mask.Latent[p];
                        latents[offset + p] = (1f - m) * proper[offset + p] + m * latents[offset + p];
                    }
                }
            }
        };
    }
}
