using System.Numerics.Tensors;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Randomness;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Pipelines;

/// <summary>What the image-conditioned tasks share: input image sizing, VAE encoding, noising at the strength's
/// timestep, and a denoising run with extra UNet channels.</summary>
public sealed partial class StableDiffusionPipeline
{
    /// <summary>The output size of an image task when the request gives none: the input's size rounded down to a
    /// multiple of the VAE factor (diffusers' <c>get_default_height_width</c>).</summary>
    private (int Width, int Height) DefaultSize(RgbImage image) => ImageResizer.RoundDown(image.Width, image.Height, _folder.LatentFactor);

    private static RgbImage Require(RgbImage? image, string field, GenerationTask task) =>
        image ?? throw new ArgumentException($"{field} is required for {ModelTasks.Describe(task)}.", field);

    private static void RejectLatents(GenerationSettings settings)
    {
        if (settings.Latents is not null)
        {
            throw new ArgumentException($"latents are only supported for text-to-image, not {ModelTasks.Describe(settings.Task)}.", nameof(settings.Latents));
        }
    }

    /// <summary>
    /// The input image stretched to the output size with Lanczos-3 (diffusers' VaeImageProcessor default resample) and
    /// converted to planes in [-1, 1]. An input already at the output size is used as is.
    /// </summary>
    private static float[] InputPlanes(RgbImage image, GenerationRun run) =>
        ImageTensors.ToPlanes(ImageResizer.Resize(image, run.Width, run.Height));

    /// <summary>Encodes planes [3, H, W] once and samples scaled latents for every image of the batch [N, 4, h, w]
    /// (image k's posterior noise from its own generator).</summary>
    private float[] EncodeLatents(ReadOnlySpan<float> planes, GenerationRun run, int images, BatchNoise noise)
    {
        var distribution = _vaeEncoder!.Encode(planes, run.Height, run.Width);
        if (distribution.Height != run.LatentHeight || distribution.Width != run.LatentWidth)
        {
            throw new InvalidOperationException(
                $"vae_encoder produced {distribution.Width}x{distribution.Height} latents for a {run.Width}x{run.Height} image; expected {run.LatentWidth}x{run.LatentHeight}.");
        }

        var latents = new float[images * distribution.Length];
        distribution.SampleScaled(latents, noise.Fill);
        return latents;
    }

    /// <summary>diffusers' img2img <c>prepare_latents</c>: the encoded latents noised with <c>scheduler.add_noise</c> at
    /// the first timestep that runs. The noise is drawn even when nothing runs (legacy inpainting blends with it).</summary>
    private static float[] NoiseAt(IScheduler scheduler, float[] init, int startIndex, BatchNoise noise, out float[] drawn)
    {
        drawn = new float[init.Length];
        noise.Fill(drawn);
        if (startIndex >= scheduler.Timesteps.Count)
        {
            return (float[])init.Clone();
        }

        var latents = new float[init.Length];
        scheduler.AddNoise(init, drawn, startIndex, latents);
        return latents;
    }

    private IScheduler CreateScheduler(GenerationSettings settings, Schedulers.SchedulerConfig? config = null)
    {
        var scheduler = SchedulerFactory.Create(settings.Scheduler, config ?? _folder.Scheduler, settings.Eta, settings.SigmaSchedule);
        scheduler.SetTimesteps(settings.Steps);
        return scheduler;
    }

    /// <summary>Runs calls <paramref name="startIndex"/> … end with the task's extra UNet channels [N, E, h, w].</summary>
    private int Denoise(GenerationRun run, GenerationSettings settings, IScheduler scheduler, float[] hidden, float[] latents,
        int startIndex, BatchNoise noise, float[] extraChannels, Action<int, Span<float>>? afterStep, long[]? classLabels,
        GenerationObserver? observer, CancellationToken cancellationToken)
        => Denoise(run, settings, scheduler, hidden, latents, run.LatentHeight, run.LatentWidth, startIndex, noise, extraChannels,
            afterStep, classLabels, observer, cancellationToken);

    private int Denoise(GenerationRun run, GenerationSettings settings, IScheduler scheduler, float[] hidden, float[] latents,
        int latentHeight, int latentWidth, int startIndex, BatchNoise noise, float[] extraChannels, Action<int, Span<float>>? afterStep,
        long[]? classLabels, GenerationObserver? observer, CancellationToken cancellationToken)
    {
        int images = settings.NumOutputs;
        int expected = images * (_unet.InChannels - 4) * latentHeight * latentWidth;
        if (extraChannels.Length != expected)
        {
            throw new InvalidOperationException($"unet expects {_unet.InChannels} channels; the task supplies {4 + extraChannels.Length / Math.Max(1, images * latentHeight * latentWidth)}.");
        }

        bool guided = settings.GuidanceScale > 1.0;
        return run.Stage("denoise", () =>
        {
            int batch = (guided ? 2 : 1) * images;
            long[]? labels = null;
            if (classLabels is not null)
            {
                labels = new long[batch];
                for (int b = 0; b < batch; b++)
                {
                    labels[b] = classLabels[b % classLabels.Length];
                }
            }

            using var unetRun = _unet.CreateRun(batch, latentHeight, latentWidth, hidden, _prompts.HiddenSize, labels);
            var loop = new DenoisingLoop(unetRun, scheduler, images, latentHeight, latentWidth, settings.GuidanceScale)
            {
                ExtraChannels = extraChannels,
                AfterStep = afterStep,
                BeforeUNet = SampleHook(observer),
                StepsAsked = settings.Steps,
            };
            return loop.Run(latents, startIndex, noise.Fill, observer, cancellationToken);
        });
    }

    /// <summary>Repeats one image's channels [E, h, w] for every image of the batch.</summary>
    private static float[] PerImage(ReadOnlySpan<float> channels, int images)
    {
        var result = new float[images * channels.Length];
        for (int n = 0; n < images; n++)
        {
            channels.CopyTo(result.AsSpan(n * channels.Length));
        }

        return result;
    }

    private static void Scale(Span<float> values, double factor) => TensorPrimitives.Multiply(values, (float)factor, values);
}
