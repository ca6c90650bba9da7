using System.Text.Json;

namespace StableDiffusion.Server.Api;

/// <summary>Reads a JSON request body with the configured size cap (chunked bodies included).</summary>
public static class RequestBodies
{
    /// <summary>The body as a JSON object, or why not: <c>TooLarge</c>, or an <c>Error</c> for the client.</summary>
    public static async Task<(JsonDocument? Document, string? Error, bool TooLarge)> ReadObjectAsync(HttpRequest request, long maxBytes)
    {
        var buffer = await BufferAsync(request, maxBytes);
        if (buffer is null)
        {
            return (null, null, true);
        }
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(buffer, default, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return (null, $"the body is not valid JSON: {e.Message}", false);
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, "the body must be a JSON object", false);
        }
        return (document, null, false);
    }

    /// <summary>The whole body in memory, or null once it passes <paramref name="maxBytes"/> (a declared length is
    /// refused before reading; a chunked body is counted as it arrives).</summary>
    public static async Task<MemoryStream?> BufferAsync(HttpRequest request, long maxBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        return buffer;
    }
}
