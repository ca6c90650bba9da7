using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Randomness;

namespace StableDiffusion.Core.Pipelines;

/// <summary>Text to image with A1111's hires fix (<see cref="HiresFix"/>).</summary>
public sealed partial class StableDiffusionPipeline
{
    /// <remarks>
    /// The first pass is <see cref="TextToImage"/>'s denoising at <c>settings.Width×Height</c>, bit for bit (same seed,
    /// same draws). The second pass, like A1111's, draws its noise again from the same seeds (a fresh generator per
    /// image, seed + k) at the final size, noises the upscaled latents at the strength's start step
    /// (<see cref="StrengthSchedule"/>, diffusers' img2img convention) and denoises with the prompts already encoded.
    /// </remarks>
    private DecodedGeneration HiresFixTextToImage(GenerationSettings settings, GenerationObserver? observer, CancellationToken cancellationToken)
    {
        var hires = settings.HiresFix!;
        RejectLatents(settings);
        int factor = _folder.LatentFactor;
        int baseWidth = settings.Width ?? Info.NativeWidth, baseHeight = settings.Height ?? Info.NativeHeight;
        var run = new GenerationRun(this, settings, observer);
        using var activity = CoreTelemetry.ActivitySource.StartActivity("generate");
        activity?.SetTag("sd.model", Info.Name);
        activity?.SetTag("sd.task", "txt2img-hires");

        var first = TextToImageLatents(run, settings, baseHeight / factor, baseWidth / factor, observer, cancellationToken);
        run.Log($"hires fix: {baseWidth}x{baseHeight} → {run.Width}x{run.Height} with {hires.UpscalerName}, denoising strength {hires.DenoisingStrength}");

        var second = settings with { Steps = hires.Steps > 0 ? hires.Steps : settings.Steps, PromptStrength = hires.DenoisingStrength };
        var noise = run.CreateNoise();
        float[] init = Upscale(run, hires, first.Latents, baseHeight / factor, baseWidth / factor, settings.NumOutputs, noise, cancellationToken);
        var scheduler = CreateScheduler(second);
        int start = StrengthSchedule.StartIndex(second.Steps, hires.DenoisingStrength, scheduler.Timesteps.Count, scheduler.Order);
        var latents = NoiseAt(scheduler, init, start, noise, out _);
        int stepsRun = Denoise(run, second, scheduler, first.Hidden, latents, start, noise, [], null, null, observer, cancellationToken);
        return run.Finish(latents, scheduler.Name, first.StepsRun + stepsRun, cancellationToken);
    }

    /// <summary>The first pass's latents [N, 4, h, w] brought to the run's latent size.</summary>
    private float[] Upscale(GenerationRun run, HiresFix hires, float[] latents, int latentHeight, int latentWidth, int images,
        BatchNoise noise, CancellationToken cancellationToken)
    {
        var upscaler = hires.Upscaler;
        InterpolationMode? mode = upscaler switch
        {
            HiresUpscaler.Latent => InterpolationMode.Bilinear,
            HiresUpscaler.LatentAntialiased => InterpolationMode.BilinearAntialiased,
            HiresUpscaler.LatentBicubic => InterpolationMode.Bicubic,
            HiresUpscaler.LatentBicubicAntialiased => InterpolationMode.BicubicAntialiased,
            HiresUpscaler.LatentNearest => InterpolationMode.Nearest,
            HiresUpscaler.LatentNearestExact => InterpolationMode.NearestExact,
            _ => null,
        };
        if (mode is { } latentMode)
        {
            return run.Stage("upscale", () => TensorInterpolation.Resize(latents, images * 4, latentHeight, latentWidth, run.LatentHeight, run.LatentWidth, latentMode));
        }

        if (_vaeEncoder is null)
        {
            throw new NotSupportedException($"Hires upscaler {upscaler} re-encodes the image, and model '{Info.Name}' has no vae_encoder; use a Latent upscaler.");
        }

        // A1111's non-latent path: decode, resize the image, encode again; the posteriors are sampled with one draw of
        // the batch's noise (image k's slice from its own generator), as img2img samples its one encoding.
        if (upscaler == HiresUpscaler.Model && hires.ImageUpscaler is null)
        {
            throw new NotSupportedException($"Hires upscaler '{hires.UpscalerName}' is a model, and none was attached to run it.");
        }

        IResampler resampler = upscaler == HiresUpscaler.Nearest ? KnownResamplers.NearestNeighbor : KnownResamplers.Lanczos3;
        int perImage = latents.Length / images;
        var encoded = new LatentDistribution[images];
        for (int k = 0; k < images; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var image = run.Stage("vae_decode", () => _vaeDecoder.Decode(latents.AsSpan(k * perImage, perImage), latentHeight, latentWidth));
            if (upscaler == HiresUpscaler.Model)
            {
                image = run.Stage("upscale_model", () => hires.ImageUpscaler!(image, cancellationToken));
            }

            var planes = run.Stage("upscale", () => ImageTensors.ToPlanes(ImageResizer.Resize(image, run.Width, run.Height, resampler)));
            encoded[k] = run.Stage("vae_encode", () => _vaeEncoder.Encode(planes, run.Height, run.Width));
        }

        int perOutput = encoded[0].Length;
        var result = new float[images * perOutput];
        var drawn = new float[result.Length];
        if (encoded[0].Std is not null)
        {
            noise.Fill(drawn);
        }

        for (int k = 0; k < images; k++)
        {
            int offset = k * perOutput;
            encoded[k].SampleScaled(result.AsSpan(offset, perOutput), destination => drawn.AsSpan(offset, perOutput).CopyTo(destination));
        }

        return result;
    }
}
