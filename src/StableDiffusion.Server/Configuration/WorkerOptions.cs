using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Worker</c> section: dynamic batching of compatible queued jobs into one UNet batch.</summary>
internal sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Most images (all outputs of all jobs) in one UNet batch; 1 turns batching off; 0 = by device: 4 on a
    /// GPU, 1 on the CPU (where a batch of 4 gained 1.1–1.5× but nearly doubled peak memory: README, Status).</summary>
    [Range(0, 64)]
    public int MaxBatchImages { get; set; }

    /// <summary>How long a worker holding a batch that already has a compatible queued job waits for more to arrive
    /// before it starts; a job with nothing compatible queued behind it never waits.</summary>
    [Range(0, 10_000)]
    public int BatchWindowMs { get; set; } = 20;

    /// <summary>The batch limit for a model loaded on <paramref name="provider"/> (<c>cpu</c>, <c>cuda</c>).</summary>
    public int BatchImagesFor(string? provider) => MaxBatchImages > 0 ? MaxBatchImages
        : string.Equals(provider, "cpu", StringComparison.OrdinalIgnoreCase) ? 1 : 4;
}
