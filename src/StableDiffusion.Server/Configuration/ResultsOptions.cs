using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Results</c> section: how long predictions and their files are kept.</summary>
internal sealed class ResultsOptions
{
    public const string Section = "Results";

    /// <summary>A finished prediction and its files are removed this long after completion (Replicate keeps an hour).</summary>
    [Range(1, 7 * 86_400)]
    public int RetentionSeconds { get; set; } = 3_600;

    /// <summary>Cap on the bytes of stored output files; the oldest files go first.</summary>
    [Range(1_024, long.MaxValue)]
    public long MaxStoredBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>How often the retention sweep runs.</summary>
    [Range(1, 3_600)]
    public int SweepIntervalSeconds { get; set; } = 30;
}
