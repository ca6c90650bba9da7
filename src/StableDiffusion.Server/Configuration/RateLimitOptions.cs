using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>RateLimits</c> section: a fixed window per API key (per client address without keys).</summary>
internal sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    public bool Enabled { get; set; } = true;

    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = 600;

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 60;
}
