namespace StableDiffusion.Core.Pipelines;

/// <summary>Image-to-image (diffusers' StableDiffusionImg2ImgPipeline).</summary>
public sealed partial class StableDiffusionPipeline
{
    /// <remarks>
    /// The image is stretched to the requested width×height (default: its own size rounded down to a multiple of 8)
    /// with Lanczos-3, encoded (posterior sampled with the job's seed), scaled by <c>scaling_factor</c>, noised with
    /// <c>scheduler.add_noise</c> at the call <see cref="StrengthSchedule"/> selects, and denoised from there. Noise
    /// per image k (generator seed + k): posterior ε (latent_parameters exports only), then the add_noise ε, then the
    /// scheduler's own. Strength 1 is NOT text-to-image, in diffusers as here: the start is
    /// add_noise(image, ε, t₀) = √ᾱ·x₀ + √(1−ᾱ)·ε (DDPM-type) or x₀ + σ₀·ε (sigma-type) rather than ε·init_noise_sigma,
    /// so a trace of the image survives; only the schedule (timesteps, number of calls) equals text-to-image's.
    /// </remarks>
    private DecodedGeneration ImageToImage(GenerationSettings settings, GenerationObserver? observer, CancellationToken cancellationToken)
    {
        var input = Require(settings.Image, "image", settings.Task);
        RejectLatents(settings);
        var (defaultWidth, defaultHeight) = DefaultSize(input);
        var run = new GenerationRun(this, settings, observer, defaultWidth, defaultHeight);
        using var activity = CoreTelemetry.ActivitySource.StartActivity("generate");
        activity?.SetTag("sd.model", Info.Name);
        activity?.SetTag("sd.task", "img2img");

        var scheduler = CreateScheduler(settings);
        int images = settings.NumOutputs;
        float[] hidden = run.Stage("text_encoder", () => EncodePrompts(settings, images, settings.GuidanceScale > 1.0, run.Log));
        var noise = run.CreateNoise();
        float[] init = run.Stage("vae_encode", () => EncodeLatents(InputPlanes(input, run), run, images, noise));
        int start = StrengthSchedule.StartIndex(settings.Steps, settings.PromptStrength, scheduler.Timesteps.Count, scheduler.Order);
        var latents = NoiseAt(scheduler, init, start, noise, out _);
        int stepsRun = Denoise(run, settings, scheduler, hidden, latents, start, noise, [], null, null, observer, cancellationToken);
        return run.Finish(latents, scheduler.Name, stepsRun, cancellationToken);
    }
}
