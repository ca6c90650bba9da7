using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Queue</c> section: the bounded job channel between the HTTP front and the workers.</summary>
internal sealed class QueueOptions
{
    public const string Section = "Queue";

    /// <summary>Jobs waiting (not counting running ones); a full queue answers 429.</summary>
    [Range(1, 100_000)]
    public int Capacity { get; set; } = 64;

    /// <summary>A job still queued this long after creation fails instead of running.</summary>
    [Range(1, 86_400)]
    public int JobDeadlineSeconds { get; set; } = 600;

    /// <summary>On shutdown the running job may finish for this long before it is canceled.</summary>
    [Range(0, 3_600)]
    public int ShutdownGraceSeconds { get; set; } = 20;

    /// <summary>Seconds a 429 tells the client to wait.</summary>
    [Range(1, 3_600)]
    public int RetryAfterSeconds { get; set; } = 5;
}
