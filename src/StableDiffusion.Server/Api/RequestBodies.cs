using System.Text.Json;

namespace StableDiffusion.Server.Api;

/// <summary>Reads a JSON request body with the configured size cap (chunked bodies included).</summary>
public static class RequestBodies
{
    /// <summary>The body as a JSON object, or why not: <c>TooLarge</c>, or an <c>Error</c> for the client.</summary>
    public static async Task<(JsonDocument? Document, string? Error, bool TooLarge)> ReadObjectAsync(HttpRequest request, long maxBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, null, true);
        }
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (null, null, true);
            }
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
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
}
