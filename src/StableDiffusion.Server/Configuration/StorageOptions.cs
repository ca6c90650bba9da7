using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>Which backend holds predictions, files and the queue (DESIGN §9).</summary>
internal enum StorageBackend
{
    /// <summary>SQLite + files under <see cref="StorageOptions.DataDirectory"/>: one box, zero configuration.</summary>
    Embedded,
    /// <summary>Redis 7+ or Valkey: streams, hashes and pub/sub shared by api and worker replicas.</summary>
    Redis,
}

/// <summary>The <c>Storage</c> section: the durable backend behind the job ports.</summary>
internal sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";

    public StorageBackend Backend { get; set; } = StorageBackend.Embedded;

    /// <summary>Where the embedded database and output files live; null = the platform's per-user data folder.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>A StackExchange.Redis configuration string (e.g. <c>127.0.0.1:6380,password=…</c>); required for Redis.</summary>
    public string? Redis { get; set; }

    /// <summary>Runs of one job, the first included, before it fails for good (a job that keeps killing its worker).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How often a worker renews its claim; a claim idle for three heartbeats is taken over.</summary>
    [Range(1, 3_600)]
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>
    /// Prefix of every Redis key and channel, so several deployments can share one Redis. On Redis Cluster, make it a
    /// hash tag (<c>{sd}:</c>) so the multi-key scripts stay in one slot.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    // The message is a format string: braces doubled.
    [RegularExpression(@"^[A-Za-z0-9:{}_.\-]{1,64}$", ErrorMessage = "Storage:RedisPrefix: 1-64 characters of letters, digits and :{{}}_.-")]
    public string RedisPrefix { get; set; } = "sd:";

    /// <summary>The data directory this configuration resolves to: <see cref="DataDirectory"/>, else
    /// <c>$XDG_DATA_HOME/stablediffusion-server</c> (<c>~/.local/share/stablediffusion-server</c>).</summary>
    public string ResolvedDataDirectory => !string.IsNullOrWhiteSpace(DataDirectory) ? DataDirectory
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share"), "stablediffusion-server");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Backend == StorageBackend.Redis && string.IsNullOrWhiteSpace(Redis))
        {
            yield return new ValidationResult("Storage:Redis is required when Storage:Backend is Redis (e.g. \"127.0.0.1:6380\")", [nameof(Redis)]);
        }
    }
}
