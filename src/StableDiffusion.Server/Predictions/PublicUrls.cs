namespace StableDiffusion.Server.Predictions;

/// <summary>Absolute URLs as the client sees the server (scheme, host and prefix after forwarded headers).</summary>
internal static class PublicUrls
{
    public static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";

    public static string Prediction(string baseUrl, string id) => $"{baseUrl}/v1/predictions/{id}";

    public static string File(string baseUrl, string fileId) => $"{baseUrl}/v1/files/{fileId}";

    /// <summary>Where a client downloads a stored file: the object store's presigned link, or the server's signed one.</summary>
    public static string File(string baseUrl, Jobs.StoredFile file)
        => file.DirectUrl ?? (file.LinkQuery is { } query ? $"{File(baseUrl, file.Id)}?{query}" : File(baseUrl, file.Id));
}
