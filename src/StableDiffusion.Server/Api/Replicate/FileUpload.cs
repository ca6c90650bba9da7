using System.Security.Cryptography;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;

using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>Files clients upload (<c>POST /v1/files</c>, multipart predictions): held in the <see cref="JobStore"/> under
/// the same byte cap as outputs, and expiring after the results retention time.</summary>
internal static class FileUpload
{
    /// <summary>Lets the validator find uploads (an image input may name one) without knowing the job store.</summary>
    public static IServiceCollection AddUploadedFiles(this IServiceCollection services)
        => services.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<JobStore>();
            // The validator is synchronous; both stores answer at once (SQLite runs synchronously, Redis is one round trip).
            return new UploadedFiles(id => store.FindFileAsync(id).GetAwaiter().GetResult() is { } file
                ? store.ReadFileAsync(file).GetAwaiter().GetResult()
                : null);
        });

    /// <summary>Stores <paramref name="bytes"/> as an upload and returns it.</summary>
    public static Task<StoredFile> StoreAsync(JobStore store, TimeProvider time, byte[] bytes, string? fileName, string? contentType, string? metadata)
    {
        var id = Ids.New();
        var file = new StoredFile(id, "", string.IsNullOrWhiteSpace(fileName) ? "upload" : Path.GetFileName(fileName),
            string.IsNullOrWhiteSpace(contentType) ? "application/octet-stream" : contentType, bytes.LongLength, time.GetUtcNow())
        {
            Key = StoredFile.KeyFor(id, "", 0),
            Metadata = metadata,
        };
        return store.SaveFileAsync(file, bytes);
    }

    /// <summary>Reads a multipart form; null and a message when it is malformed or over a form limit (a 400, not a 500).</summary>
    public static async Task<(IFormCollection? Form, string? Error)> ReadFormAsync(HttpRequest request)
    {
        try
        {
            return (await request.ReadFormAsync(request.HttpContext.RequestAborted), null);
        }
        catch (InvalidDataException e)
        {
            return (null, $"the multipart body is malformed or over a form limit: {e.Message}");
        }
    }

    /// <summary>The absolute URL of a file on this server (what an input field may reference).</summary>
    public static string UrlOf(HttpRequest request, string id) => $"{PublicUrls.BaseUrl(request)}/v1/files/{id}";

    /// <summary>Replicate's file object, as the <c>replicate</c> client's <c>files.create</c> reads it.</summary>
    public static JsonObject Describe(HttpRequest request, StoredFile file, byte[] bytes, ResultsOptions results)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        // Replicate's etag is the content's MD5 (as S3's for single-part uploads).
        var md5 = Convert.ToHexStringLower(MD5.HashData(bytes));
        JsonNode metadata = new JsonObject();
        if (file.Metadata is { } text)
        {
            try
            {
                metadata = JsonNode.Parse(text) ?? new JsonObject();
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }
        return new JsonObject
        {
            ["id"] = file.Id,
            ["name"] = file.FileName,
            ["content_type"] = file.ContentType,
            ["size"] = file.Size,
            ["etag"] = md5,
            ["checksums"] = new JsonObject { ["sha256"] = sha256, ["md5"] = md5 },
            ["metadata"] = metadata,
            ["created_at"] = file.CreatedAt.ToString("O"),
            ["expires_at"] = file.CreatedAt.AddSeconds(results.RetentionSeconds).ToString("O"),
            ["urls"] = new JsonObject { ["get"] = UrlOf(request, file.Id) },
        };
    }
}
