using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>PostProcessing</c> section: the CPU stage (watermark, encode, store) that finishes a job while its
/// worker already denoises the next one.</summary>
internal sealed class PostProcessingOptions
{
    public const string Section = "PostProcessing";

    /// <summary>Jobs finished at once on the CPU; 0 = none: the worker finishes each job itself before taking the next.</summary>
    [Range(0, 64)]
    public int Concurrency { get; set; } = 2;

    /// <summary>Jobs waiting for the CPU stage; when it is full the worker waits (back-pressure) rather than piling
    /// decoded images up in memory.</summary>
    [Range(1, 1_024)]
    public int Capacity { get; set; } = 4;
}
