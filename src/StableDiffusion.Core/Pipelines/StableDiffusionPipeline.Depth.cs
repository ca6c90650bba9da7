namespace StableDiffusion.Core.Pipelines;

/// <summary>Depth-to-image (diffusers' StableDiffusionDepth2ImgPipeline).</summary>
public sealed partial class StableDiffusionPipeline
{
    /// <remarks>
    /// As img2img, with a fifth UNet channel: the depth map at latent size in [-1, 1] (<see cref="DepthMap"/>), from
    /// the user's depth image or estimated by <c>depth_estimator/</c> from the original (un-resized) input image.
    /// </remarks>
    private DecodedGeneration DepthToImage(GenerationSettings settings, GenerationObserver? observer, CancellationToken cancellationToken)
    {
        var input = Require(settings.Image, "image", settings.Task);
        RejectLatents(settings);
        if (settings.DepthImage is null && _depthEstimator is null)
        {
            throw new ArgumentException($"depth_image is required: model '{Info.Name}' has no depth_estimator/ to estimate depth.", nameof(settings.DepthImage));
        }

        var (defaultWidth, defaultHeight) = DefaultSize(input);
        var run = new GenerationRun(this, settings, observer, defaultWidth, defaultHeight);
        using var activity = CoreTelemetry.ActivitySource.StartActivity("generate");
        activity?.SetTag("sd.model", Info.Name);
        activity?.SetTag("sd.task", "depth2img");

        var scheduler = CreateScheduler(settings);
        int images = settings.NumOutputs;
        float[] hidden = run.Stage("text_encoder", () => EncodePrompts(settings, images, settings.GuidanceScale > 1.0, run.Log));
        float[] depth = run.Stage("depth", () =>
        {
            if (settings.DepthImage is { } given)
            {
                return DepthMap.FromImage(given, run.LatentHeight, run.LatentWidth);
            }

            var (estimate, height, width) = _depthEstimator!.Estimate(input);
            return DepthMap.ToLatent(estimate, height, width, run.LatentHeight, run.LatentWidth);
        });

        var noise = run.CreateNoise();
        float[] init = run.Stage("vae_encode", () => EncodeLatents(InputPlanes(input, run), run, images, noise));
        int start = StrengthSchedule.StartIndex(settings.Steps, settings.PromptStrength, scheduler.Timesteps.Count, scheduler.Order);
        var latents = NoiseAt(scheduler, init, start, noise, out _);
        int stepsRun = Denoise(run, settings, scheduler, hidden, latents, start, noise, PerImage(depth, images), null, null, observer, cancellationToken);
        return run.Finish(latents, scheduler.Name, stepsRun, cancellationToken);
    }
}
