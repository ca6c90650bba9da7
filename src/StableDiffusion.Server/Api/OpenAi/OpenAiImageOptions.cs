namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// The request fields OpenAI added for its GPT image models, checked against the values OpenAI's OpenAPI document
/// lists, and the model family the request belongs to: it decides the default <c>response_format</c>, as on OpenAI
/// (GPT image models return only <c>b64_json</c>; dall-e and our own model names default to <c>url</c>).
/// </summary>
/// <param name="GptImage">The request is for a GPT image model: named one, or (as OpenAI picks its default) named no model
/// and is an edit (OpenAI's edits default to a GPT image model) or used a GPT-image-only parameter.</param>
/// <param name="NamedGptImage">The request named a GPT image model; only then is <c>response_format: url</c> refused.</param>
/// <param name="Quality">low, medium or high when asked for (echoed in the response); accepted, not honoured.</param>
/// <param name="Compression">output_compression 0..100: honoured as the WebP/JPEG quality (at least 1).</param>
/// <param name="Stream">Answer as server-sent events (image_generation.completed / image_edit.completed).</param>
internal sealed record OpenAiImageOptions(bool GptImage, bool NamedGptImage, string? Quality, int? Compression, bool Stream)
{
    private static readonly string[] GptImageOnly = ["output_format", "output_compression", "background", "moderation", "stream", "partial_images"];

    public static OpenAiImageOptions Parse(LooseFields fields, string? model, bool edit)
    {
        var quality = OneOf(fields, "quality", "standard", "hd", "low", "medium", "high", "auto");
        OneOf(fields, "background", "transparent", "opaque", "auto");
        OneOf(fields, "moderation", "low", "auto");
        OneOf(fields, "style", "vivid", "natural");
        OneOf(fields, "input_fidelity", "high", "low");
        var compression = fields.Int("output_compression");
        if (compression is < 0 or > 100)
        {
            fields.Errors["output_compression"] = "must be between 0 and 100";
        }
        // Partial images are optional in OpenAI's stream (the final image may come first); none are sent here.
        if (fields.Int("partial_images") is < 0 or > 3)
        {
            fields.Errors["partial_images"] = "must be between 0 and 3";
        }
        var named = model is not null && (model.StartsWith("gpt-image", StringComparison.OrdinalIgnoreCase)
            || model.StartsWith("chatgpt-image", StringComparison.OrdinalIgnoreCase));
        var gptImage = named || (string.IsNullOrWhiteSpace(model)
            && (edit || GptImageOnly.Any(fields.Has) || quality is "low" or "medium" or "high"));
        return new OpenAiImageOptions(gptImage, named, quality is "low" or "medium" or "high" ? quality : null, compression,
            fields.Bool("stream") == true);
    }

    private static string? OneOf(LooseFields fields, string name, params string[] values)
    {
        var value = fields.String(name);
        if (value is not null && !values.Contains(value))
        {
            fields.Errors[name] = $"must be one of {string.Join(", ", values)}";
            return null;
        }
        return value;
    }
}
