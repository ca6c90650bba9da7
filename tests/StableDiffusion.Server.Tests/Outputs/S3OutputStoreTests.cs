using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Web;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Outputs;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests.Outputs;

/// <summary>One s3rver for the S3 output store tests.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    private S3rver? _server;

    public S3rver Server => _server ?? throw new InvalidOperationException(S3rver.MissingReason ?? "s3rver is not started");

    public async Task InitializeAsync()
    {
        if (S3rver.MissingReason is not null && !RedisServer.IsCi)
        {
            return; // every test here is an [S3rverFact] and skips with the reason
        }
        _server = await S3rver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The S3 output store against a real S3 endpoint (s3rver), presigned URLs checked field by field.</summary>
public sealed class S3OutputStoreTests(S3rverFixture s3) : IClassFixture<S3rverFixture>
{
    private const string Region = "us-east-1";
    private static readonly HttpClient Http = new();

    private async Task<S3OutputStore> NewStoreAsync()
    {
        var store = new S3OutputStore(Options.Create(new OutputsOptions
        {
            Backend = OutputsBackend.S3,
            S3 = new S3OutputsOptions
            {
                ServiceUrl = s3.Server.ServiceUrl,
                Bucket = "outputs-" + Guid.NewGuid().ToString("N")[..8],
                Region = Region,
                AccessKey = S3rver.AccessKey,
                SecretKey = S3rver.SecretKey,
                ForcePathStyle = true,
            },
        }));
        await store.EnsureBucketAsync();
        return store;
    }

    [S3rverFact]
    public async Task Put_then_get_returns_the_bytes_and_delete_removes_them()
    {
        using var store = await NewStoreAsync();
        var bytes = RandomNumberGenerator.GetBytes(70_000);

        await store.PutAsync("outputs/job-1/file-1.png", bytes, "image/png");
        var read = await store.GetAsync("outputs/job-1/file-1.png");
        await store.DeleteAsync("outputs/job-1/file-1.png");

        Assert.Equal(bytes, read);
        Assert.Null(await store.GetAsync("outputs/job-1/file-1.png"));
        await store.DeleteAsync("outputs/job-1/file-1.png"); // deleting twice is no error
    }

    [S3rverFact]
    public async Task Ensure_bucket_is_idempotent()
    {
        using var store = await NewStoreAsync();

        await store.EnsureBucketAsync();
        await store.PutAsync("uploads/a.png", [1], "image/png");

        Assert.Equal([1], await store.GetAsync("uploads/a.png"));
    }

    [S3rverFact]
    public async Task Get_of_a_missing_object_is_null()
    {
        using var store = await NewStoreAsync();

        Assert.Null(await store.GetAsync("outputs/nobody/nothing.png"));
    }

    [S3rverFact]
    public async Task Keys_that_could_leave_the_store_are_refused()
    {
        using var store = await NewStoreAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync("../escape.png", [1], "image/png"));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync("outputs/../../x"));
    }

    [S3rverFact]
    public async Task Presigned_url_downloads_the_object_with_its_content_type()
    {
        using var store = await NewStoreAsync();
        var file = new StoredFile("file1", "job1", "out-0.webp", "image/webp", 0, DateTimeOffset.UtcNow);
        var bytes = RandomNumberGenerator.GetBytes(4_096);
        await store.PutAsync(OutputKeys.For(file), bytes, file.ContentType);

        var url = store.DirectUrl(file, TimeSpan.FromMinutes(5))!;
        using var response = await Http.GetAsync(url);

        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/webp", response.Content.Headers.ContentType!.MediaType);
    }

    [S3rverFact]
    public async Task Presigned_url_is_a_correct_sigv4_query_signature_expiring_when_asked()
    {
        using var store = await NewStoreAsync();
        var file = new StoredFile("file1", "job1", "out-0.png", "image/png", 0, DateTimeOffset.UtcNow);
        var lifetime = TimeSpan.FromSeconds(3_600);
        var before = DateTimeOffset.UtcNow;

        var url = new Uri(store.DirectUrl(file, lifetime)!);

        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("http", url.Scheme);
        Assert.Equal($"/{store.Bucket}/outputs/job1/file1.png", url.AbsolutePath); // path style, attempt-safe key
        Assert.Equal("AWS4-HMAC-SHA256", query["X-Amz-Algorithm"]);
        var date = DateTimeOffset.ParseExact(query["X-Amz-Date"]!, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange(date, before.AddSeconds(-2), DateTimeOffset.UtcNow.AddSeconds(2));
        Assert.Equal($"{S3rver.AccessKey}/{date:yyyyMMdd}/{Region}/s3/aws4_request", query["X-Amz-Credential"]);
        Assert.Equal("3600", query["X-Amz-Expires"]);
        Assert.Equal("host", query["X-Amz-SignedHeaders"]);
        Assert.Equal(ExpectedSignature(url, S3rver.SecretKey, Region), query["X-Amz-Signature"]);
    }

    [S3rverFact]
    public async Task Presigned_url_lifetime_is_limited_to_a_week()
    {
        using var store = await NewStoreAsync();
        var file = new StoredFile("file1", "job1", "out-0.png", "image/png", 0, DateTimeOffset.UtcNow);

        Assert.Equal("604800", HttpUtility.ParseQueryString(new Uri(store.DirectUrl(file, TimeSpan.FromDays(7))!).Query)["X-Amz-Expires"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.DirectUrl(file, TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.DirectUrl(file, TimeSpan.Zero));
    }

    /// <summary>
    /// SigV4 for a presigned GET, computed from AWS's published algorithm ("Authenticating Requests: Using Query
    /// Parameters"), independently of the SDK: canonical request → string to sign → HMAC chain of date, region,
    /// service → hex signature. s3rver does not check this, so the test does.
    /// </summary>
    private static string ExpectedSignature(Uri url, string secretKey, string region)
    {
        var parameters = url.Query.TrimStart('?').Split('&')
            .Select(p => p.Split('=', 2))
            .Select(p => (Name: Uri.UnescapeDataString(p[0]), Value: Uri.UnescapeDataString(p.Length > 1 ? p[1] : "")))
            .Where(p => p.Name != "X-Amz-Signature")
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToArray();
        var canonicalQuery = string.Join('&', parameters.Select(p => $"{Rfc3986(p.Name)}={Rfc3986(p.Value)}"));
        var amzDate = parameters.Single(p => p.Name == "X-Amz-Date").Value;
        var canonicalRequest = string.Join('\n',
            "GET",
            url.AbsolutePath,
            canonicalQuery,
            $"host:{url.Authority}",
            "",
            "host",
            "UNSIGNED-PAYLOAD");
        var scope = $"{amzDate[..8]}/{region}/s3/aws4_request";
        var stringToSign = string.Join('\n', "AWS4-HMAC-SHA256", amzDate, scope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
        var key = Encoding.UTF8.GetBytes("AWS4" + secretKey);
        foreach (var part in new[] { amzDate[..8], region, "s3", "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }
        return Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
    }

    /// <summary>SigV4's encoding: everything but A-Z a-z 0-9 - _ . ~ as %XX, upper-case hex.</summary>
    private static string Rfc3986(string value)
    {
        var text = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.' or '~')
            {
                text.Append(c);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return text.ToString();
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
