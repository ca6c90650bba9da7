using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Server.Worker;

/// <summary>
/// A hires fix whose upscaler is a served x4 upscaler model: the worker that runs the job holds that model's pipeline
/// too, so the first pass's decoded images are upscaled by it in the same job (A1111's upscaler models run inside the
/// hires pass the same way), with an empty prompt and the model's defaults, as the extras run it.
/// </summary>
internal static class HiresUpscaling
{
    public static GenerationSettings Attach(GenerationSettings settings, DevicePipelines pipelines)
    {
        if (settings.HiresFix is not { Upscaler: HiresUpscaler.Model, UpscalerModel: { } name } hires)
        {
            return settings;
        }

        var upscaler = pipelines.Get(name);
        return settings with
        {
            HiresFix = hires with { ImageUpscaler = (image, cancellationToken) => Upscale(upscaler, image, settings.Seed, cancellationToken) },
        };
    }

    private static RgbImage Upscale(StableDiffusionPipeline upscaler, RgbImage image, long seed, CancellationToken cancellationToken)
    {
        // The decoded image itself: no watermark, no PNG round trip.
        return upscaler.Render(new GenerationSettings
        {
            Task = GenerationTask.Upscale,
            Prompt = "",
            Image = image,
            Seed = seed,
            WatermarkPayload = null,
        }, null, cancellationToken).Images[0].Image;
    }
}
