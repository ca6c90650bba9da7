using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Outputs;

/// <summary>
/// Output files in an S3-compatible bucket (AWS, MinIO, R2, Ceph, …). Clients download straight from the bucket with
/// presigned GET URLs that expire with the prediction, so file traffic never passes through the API replicas.
/// </summary>
internal sealed class S3OutputStore : IOutputStore, IDisposable
{
    /// <summary>SigV4 presigned URLs cannot live longer than a week.</summary>
    public static readonly TimeSpan MaxUrlLifetime = TimeSpan.FromDays(7);

    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly Protocol _protocol;

    public S3OutputStore(IOptions<OutputsOptions> options)
    {
        var s3 = options.Value.S3;
        _bucket = s3.Bucket ?? throw new InvalidOperationException("Outputs:S3:Bucket is required when Outputs:Backend is S3");
        var config = new AmazonS3Config
        {
            ForcePathStyle = s3.ForcePathStyle,
            // S3-compatible stores lag behind AWS's newer default integrity checksums (CRC trailers on every PUT);
            // send and check them only where the operation requires it.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // The SDK otherwise shifts its clock by the skew it reads from response Date headers (whole seconds), and
            // a presigned URL then lasts a second more or less than asked. Links must expire with the prediction, and
            // servers keep NTP time.
            DisableClockSkewCorrection = true,
        };
        if (string.IsNullOrEmpty(s3.ServiceUrl))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(s3.Region);
            _protocol = Protocol.HTTPS;
        }
        else
        {
            config.ServiceURL = s3.ServiceUrl;
            config.AuthenticationRegion = s3.Region;
            // The SDK presigns https unless told otherwise, even for an http endpoint.
            _protocol = new Uri(s3.ServiceUrl).Scheme == Uri.UriSchemeHttp ? Protocol.HTTP : Protocol.HTTPS;
        }
        _client = string.IsNullOrEmpty(s3.AccessKey)
            ? new AmazonS3Client(config) // the SDK's default chain: environment, profile, instance or pod role
            : new AmazonS3Client(new BasicAWSCredentials(s3.AccessKey, s3.SecretKey), config);
    }

    public string Bucket => _bucket;

    /// <summary>Creates the bucket when it does not exist (compose/dev setups; production buckets are usually made by ops).</summary>
    public async Task EnsureBucketAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = _bucket }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
    }

    public async Task PutAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken = default)
    {
        using var body = new MemoryStream(bytes, writable: false);
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = OutputKeys.Validate(key),
            InputStream = body,
            ContentType = contentType,
            AutoCloseStream = false,
            // One signed body instead of aws-chunked streaming signatures, which S3-compatible stores (s3rver among
            // them) do not all decode; the bytes are in memory anyway.
            UseChunkEncoding = false,
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await _client.GetObjectAsync(_bucket, OutputKeys.Validate(key), cancellationToken).ConfigureAwait(false);
            using var bytes = new MemoryStream();
            await response.ResponseStream.CopyToAsync(bytes, cancellationToken).ConfigureAwait(false);
            return bytes.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null; // expired by a bucket lifecycle rule, or deleted
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
        => await _client.DeleteObjectAsync(_bucket, OutputKeys.Validate(key), cancellationToken).ConfigureAwait(false);

    /// <summary>A presigned GET for the file's object, valid for <paramref name="lifetime"/> (at most a week).</summary>
    public string? DirectUrl(StoredFile file, TimeSpan lifetime)
    {
        if (lifetime <= TimeSpan.Zero || lifetime > MaxUrlLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, "a presigned URL lives between 1 second and 7 days");
        }
        return _client.GetPreSignedURL(new GetPreSignedUrlRequest
        {
            BucketName = _bucket,
            Key = OutputKeys.For(file),
            Verb = HttpVerb.GET,
            Protocol = _protocol,
            Expires = DateTime.UtcNow + lifetime,
        });
    }

    public void Dispose() => _client.Dispose();
}
