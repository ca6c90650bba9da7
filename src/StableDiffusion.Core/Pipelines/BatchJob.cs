namespace StableDiffusion.Core.Pipelines;

/// <summary>One job of a batched generation (<see cref="StableDiffusionPipeline.GenerateBatch"/>): its own settings,
/// callbacks and cancellation.</summary>
public sealed record BatchJob(GenerationSettings Settings, GenerationObserver? Observer = null, CancellationToken Cancellation = default);

/// <summary>What one job of a batch came to: its device part (its CPU ending is <see cref="DecodedGeneration.Finish"/>),
/// or the exception it ended with (an <see cref="OperationCanceledException"/> when its own token was canceled).</summary>
public sealed record BatchOutcome(DecodedGeneration? Result, Exception? Error)
{
    /// <summary>The result, or the job's exception rethrown with its original stack.</summary>
    public DecodedGeneration GetResult()
    {
        if (Error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(Error);
        }

        return Result!;
    }
}

/// <summary>Which jobs may share one UNet batch: those whose timesteps and UNet batch layout agree.</summary>
public static class BatchCompatibility
{
    /// <summary>A key equal for jobs that can run as one batch on the same model: text-to-image, or image-to-image at
    /// the same strength (so the same first call), with the same output size (an image-to-image job without one takes
    /// its input's: the same input size then), steps, scheduler and sigma schedule, guidance on or off; null for a job
    /// that only runs alone (other tasks, caller-supplied latents, hires fix). Prompts, guidance scale, seeds, noise
    /// source, η, input images and the output format may differ.</summary>
    public static string? KeyOf(GenerationSettings settings)
    {
        if (settings.Latents is not null || settings.HiresFix is not null)
        {
            return null;
        }

        var culture = System.Globalization.CultureInfo.InvariantCulture;
        string task, width, height;
        switch (settings.Task)
        {
            case GenerationTask.TextToImage:
                task = "txt2img";
                width = settings.Width?.ToString(culture) ?? "native";
                height = settings.Height?.ToString(culture) ?? "native";
                break;
            case GenerationTask.ImageToImage when settings.Image is { } image:
                task = "img2img@" + settings.PromptStrength.ToString("R", culture);
                width = settings.Width?.ToString(culture) ?? "image" + image.Width.ToString(culture);
                height = settings.Height?.ToString(culture) ?? "image" + image.Height.ToString(culture);
                break;
            default:
                return null;
        }

        bool guided = settings.GuidanceScale > 1.0;
        return string.Join('|', task, width, height, settings.Steps.ToString(culture),
            settings.Scheduler ?? "default", settings.SigmaSchedule ?? "config", guided ? "cfg" : "nocfg");
    }
}
