using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Server.Jobs;

/// <summary>Which queued jobs a worker may run as one UNet batch: same model, and Core's
/// <see cref="BatchCompatibility.KeyOf"/> (task, size, steps, scheduler, sigma schedule, guidance on/off).</summary>
internal static class JobBatchKey
{
    /// <summary>The job's key, or null when it only runs alone.</summary>
    public static string? Of(Job job)
        => BatchCompatibility.KeyOf(job.Request.Settings) is { } key ? $"{job.Model.Name}|{key}" : null;
}
