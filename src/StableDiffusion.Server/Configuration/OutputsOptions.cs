using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>Where output file bytes live.</summary>
internal enum OutputsBackend
{
    /// <summary>Under the data directory; served by <c>/v1/files/{id}</c> with signed, expiring links.</summary>
    FileSystem,
    /// <summary>An S3-compatible bucket; clients download with presigned GET URLs.</summary>
    S3,
}

/// <summary>The <c>Outputs</c> section: the output store and how its links are signed.</summary>
internal sealed class OutputsOptions : IValidatableObject
{
    public const string Section = "Outputs";

    public OutputsBackend Backend { get; set; } = OutputsBackend.FileSystem;

    public S3OutputsOptions S3 { get; set; } = new();

    /// <summary>
    /// HMAC key for <c>/v1/files/{id}?expires=&amp;sig=</c> links (at least 32 characters). Replicas that serve each
    /// other's links need the same key; null = a random key kept in the data directory.
    /// </summary>
    public string? SigningKey { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Empty counts as unset (compose passes ${SD_SIGNING_KEY:-}).
        if (!string.IsNullOrEmpty(SigningKey) && SigningKey.Length < 32)
        {
            yield return new ValidationResult("Outputs:SigningKey must be at least 32 characters", [nameof(SigningKey)]);
        }
        if (Backend != OutputsBackend.S3)
        {
            yield break;
        }
        if (string.IsNullOrWhiteSpace(S3.Bucket))
        {
            yield return new ValidationResult("Outputs:S3:Bucket is required when Outputs:Backend is S3", ["S3.Bucket"]);
        }
        // ValidateDataAnnotations does not descend into S3, so its rules are checked here.
        if (string.IsNullOrWhiteSpace(S3.Region))
        {
            yield return new ValidationResult("Outputs:S3:Region is required when Outputs:Backend is S3", ["S3.Region"]);
        }
        if (!string.IsNullOrEmpty(S3.ServiceUrl) && !Uri.TryCreate(S3.ServiceUrl, UriKind.Absolute, out _))
        {
            yield return new ValidationResult("Outputs:S3:ServiceUrl must be an absolute URL", ["S3.ServiceUrl"]);
        }
        if (string.IsNullOrEmpty(S3.AccessKey) != string.IsNullOrEmpty(S3.SecretKey))
        {
            yield return new ValidationResult("Outputs:S3:AccessKey and Outputs:S3:SecretKey go together (or neither, for the SDK's default credentials)", ["S3.AccessKey", "S3.SecretKey"]);
        }
    }
}

/// <summary>The <c>Outputs:S3</c> section.</summary>
internal sealed class S3OutputsOptions
{
    /// <summary>Endpoint of an S3-compatible service (MinIO, R2, …); null = AWS itself, by <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    public string? Bucket { get; set; }

    /// <summary>The signing region; most S3-compatible services accept <c>us-east-1</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Null with <see cref="SecretKey"/> = the SDK's default credential chain (environment, instance role).</summary>
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary><c>http://host/bucket/key</c> instead of <c>http://bucket.host/key</c> (MinIO and most self-hosted stores).</summary>
    public bool ForcePathStyle { get; set; }
}
