using System.Text.Json;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>
/// <c>POST /v1/predictions</c> as <c>multipart/form-data</c>, for curl users (<c>-F image=@photo.png</c>): form fields
/// <c>version</c>, <c>input</c> (a JSON object as text), <c>webhook</c>, <c>webhook_events_filter</c> (JSON array), and
/// file parts <c>image</c>, <c>mask</c>, <c>depth_image</c> that fill those input fields. The files are stored as
/// uploads, so the prediction's <c>input</c> shows their URLs, not megabytes of base64.
/// </summary>
internal static class MultipartPrediction
{
    public static readonly string[] ImageFields = ["image", "mask", "depth_image"];

    /// <summary>The equivalent JSON body; or errors (413 when a file is over the image byte limit).</summary>
    public static async Task<BodyRead<MemoryStream>> ToJsonAsync(
        HttpRequest request, JobStore store, TimeProvider time, LimitsOptions limits)
    {
        var (form, formError) = await FileUpload.ReadFormAsync(request);
        if (form is null)
        {
            return BodyRead<MemoryStream>.Invalid("body", formError!);
        }
        JsonObject input;
        try
        {
            input = form.TryGetValue("input", out var text) && !string.IsNullOrWhiteSpace(text)
                ? JsonNode.Parse(text.ToString()) as JsonObject ?? throw new JsonException("not an object")
                : [];
        }
        catch (JsonException e)
        {
            return BodyRead<MemoryStream>.Invalid("input", $"must be a JSON object: {e.Message}");
        }
        var root = new JsonObject();
        if (form.TryGetValue("version", out var version))
        {
            root["version"] = version.ToString();
        }
        if (form.TryGetValue("webhook", out var webhook))
        {
            root["webhook"] = webhook.ToString();
        }
        if (form.TryGetValue("webhook_events_filter", out var filter))
        {
            try
            {
                root["webhook_events_filter"] = JsonNode.Parse(filter.ToString());
            }
            catch (JsonException)
            {
                return BodyRead<MemoryStream>.Invalid("webhook_events_filter", "must be a JSON array");
            }
        }
        if (await StoreImagePartsAsync(request, form, input, store, time, limits) is { } oversized)
        {
            return oversized;
        }
        root["input"] = input;
        var json = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(json))
        {
            root.WriteTo(writer);
        }
        json.Position = 0;
        return BodyRead<MemoryStream>.Read(json);
    }

    /// <summary>Stores the image file parts as uploads and points their input fields at them; a 413 read when one is
    /// over the image byte limit.</summary>
    private static async Task<BodyRead<MemoryStream>?> StoreImagePartsAsync(HttpRequest request, IFormCollection form,
        JsonObject input, JobStore store, TimeProvider time, LimitsOptions limits)
    {
        foreach (var field in ImageFields)
        {
            var part = form.Files.GetFile(field);
            if (part is null)
            {
                // A plain text field works too (a data URI or a file URL).
                if (form.TryGetValue(field, out var value))
                {
                    input[field] = value.ToString();
                }
                continue;
            }
            if (part.Length > limits.MaxImageBytes)
            {
                return BodyRead<MemoryStream>.Oversized(new Dictionary<string, string[]>
                {
                    [field] = [$"the image is {part.Length} bytes; the limit is {limits.MaxImageBytes} bytes."],
                });
            }
            var file = await FileUpload.StoreAsync(store, time, await FilesApi.ReadAllAsync(part, request.HttpContext.RequestAborted),
                part.FileName, part.ContentType, null);
            input[field] = FileUpload.UrlOf(request, file.Id);
        }
        return null;
    }
}
