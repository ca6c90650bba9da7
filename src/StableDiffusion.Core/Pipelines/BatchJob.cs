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
    /// <summary>A key equal for jobs that can run as one batch on the same model (text-to-image, same output size,
    /// steps, scheduler and sigma schedule, guidance on or off); null for a job that only runs alone (other tasks,
    /// caller-supplied latents, hires fix). Prompts, guidance scale, seeds, noise source, η and the output format may differ.</summary>
    public static string? KeyOf(GenerationSettings settings)
    {
        if (settings.Task != GenerationTask.TextToImage || settings.Latents is not null || settings.HiresFix is not null)
        {
            return null;
        }

        bool guided = settings.GuidanceScale > 1.0;
        return string.Join('|', "txt2img", settings.Width?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "native",
            settings.Height?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "native",
            settings.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            settings.Scheduler ?? "default", settings.SigmaSchedule ?? "config", guided ? "cfg" : "nocfg");
    }
}
