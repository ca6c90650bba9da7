using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Webhooks</c> section: delivery policy and the SSRF guard.</summary>
internal sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Allow private, loopback and link-local destinations (off: a webhook must not reach the internal network).</summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>Attempts per event, the first included.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Delay before the second attempt; doubles each time.</summary>
    [Range(1, 600_000)]
    public int InitialBackoffMilliseconds { get; set; } = 500;

    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Signing secret, <c>whsec_</c> + base64 of at least 16 bytes (Replicate's format); null = a random one per
    /// process. Clients read it from <c>GET /v1/webhooks/default/secret</c>.
    /// </summary>
    public string? SigningSecret { get; set; }

    /// <summary>Least time between two <c>logs</c> deliveries of one prediction (Replicate throttles to 500 ms).</summary>
    [Range(0, 60_000)]
    public int LogsThrottleMilliseconds { get; set; } = 500;
}
