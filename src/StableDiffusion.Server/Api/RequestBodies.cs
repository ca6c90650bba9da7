using System.Text.Json;

namespace StableDiffusion.Server.Api;

/// <summary>Reads a JSON request body with the configured size cap (chunked bodies included).</summary>
internal static class RequestBodies
{
    /// <summary>The body as a JSON object, or why not (<c>body</c> names the error; too large past <paramref name="maxBytes"/>).</summary>
    public static async Task<BodyRead<JsonDocument>> ReadObjectAsync(HttpRequest request, long maxBytes)
    {
        var buffer = await BufferAsync(request, maxBytes);
        if (buffer is null)
        {
            return BodyRead<JsonDocument>.Oversized();
        }
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(buffer, default, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return BodyRead<JsonDocument>.Invalid("body", $"the body is not valid JSON: {e.Message}");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return BodyRead<JsonDocument>.Invalid("body", "the body must be a JSON object");
        }
        return BodyRead<JsonDocument>.Read(document);
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
