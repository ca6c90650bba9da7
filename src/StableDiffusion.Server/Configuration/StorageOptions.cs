using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>Which backend keeps predictions and the queue (DESIGN §9).</summary>
public enum StorageBackend
{
    /// <summary>SQLite in WAL mode under <see cref="StorageOptions.DataDirectory"/>: one box, zero configuration.</summary>
    Embedded,
    /// <summary>Redis 7+ or Valkey: many API replicas and workers share it.</summary>
    Redis,
}

/// <summary>The <c>Storage</c> section: where predictions and queued jobs live, and how often a job may be re-run.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    public StorageBackend Backend { get; set; } = StorageBackend.Embedded;

    /// <summary>The embedded database and the output files; empty = <c>$XDG_DATA_HOME/stablediffusion-server</c>
    /// (<c>~/.local/share/stablediffusion-server</c>).</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>A StackExchange.Redis configuration string (e.g. <c>127.0.0.1:6380</c>), for <c>Backend: Redis</c>.</summary>
    public string Redis { get; set; } = "";

    /// <summary>Prefix of every Redis key, so several deployments can share one Redis.</summary>
    public string RedisPrefix { get; set; } = "sd:";

    /// <summary>Runs of one job at most (a crash or a lost worker costs one); then it fails with a clear error.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How often a worker renews its claim on a running job; a claim silent for three of these is taken over.</summary>
    [Range(1, 3_600)]
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>The data directory this configuration resolves to.</summary>
    public string ResolvedDataDirectory => !string.IsNullOrWhiteSpace(DataDirectory) ? DataDirectory
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share"), "stablediffusion-server");
}
