using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Server.Generation;

/// <summary>
/// Resolves an image input value — a data URI, raw base64 (AUTOMATIC1111 clients), the id of a file uploaded with
/// <c>POST /v1/files</c>, or that file's URL on this server — and decodes it with Core's <see cref="ImageDecoder"/>.
/// </summary>
/// <remarks>Nothing is ever fetched: a URL that is not one of our own uploaded files is refused (DESIGN §5, SSRF).</remarks>
internal static class ImageSource
{
    /// <summary>Decodes <paramref name="value"/>; throws <see cref="ImageInputException"/> naming <paramref name="field"/>.</summary>
    public static RgbImage Decode(string value, string field, ImageLimits limits, UploadedFiles? uploads)
    {
        var trimmed = value.Trim();
        if (trimmed.StartsWith("http:", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
        {
            if (uploads is not null && UploadIdOf(trimmed) is { } id)
            {
                return DecodeUpload(id, field, limits, uploads);
            }
            throw new ImageInputException(field,
                "image URLs are not fetched; send a data URI (data:image/png;base64,...) or upload the file with POST /v1/files and pass its URL.");
        }
        if (uploads is not null && IsId(trimmed))
        {
            return DecodeUpload(trimmed, field, limits, uploads);
        }
        return ImageDecoder.DecodeDataUri(trimmed, field, limits);
    }

    private static RgbImage DecodeUpload(string id, string field, ImageLimits limits, UploadedFiles uploads)
    {
        if (uploads.Find(id) is not { } bytes)
        {
            throw new ImageInputException(field, $"no uploaded file '{id}' (it may have expired).");
        }
        return ImageDecoder.Decode(bytes, field, limits);
    }

    /// <summary>The file id when <paramref name="url"/>'s path ends in <c>/v1/files/{id}</c> (behind any proxy prefix).</summary>
    private static string? UploadIdOf(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return null;
        }
        var segments = uri.AbsolutePath.TrimEnd('/').Split('/');
        return segments.Length >= 3 && segments[^3] == "v1" && segments[^2] == "files" && IsId(segments[^1]) ? segments[^1] : null;
    }

    private static bool IsId(string value)
    {
        if (value.Length != 26)
        {
            return false;
        }
        foreach (var c in value)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '2' and <= '7')))
            {
                return false;
            }
        }
        return true;
    }
}
