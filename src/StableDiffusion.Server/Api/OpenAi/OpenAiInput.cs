using System.Globalization;
using StableDiffusion.Server.Generation;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>OpenAI's request fields onto the shared <see cref="GenerationInput"/>, and the validator's field names back.</summary>
internal static class OpenAiInput
{
    // The shared validator names fields as the native API does; OpenAI clients know them by these names.
    private static readonly Dictionary<string, string> ParamNames = new()
    {
        ["width"] = "size",
        ["height"] = "size",
        ["num_outputs"] = "n",
        ["num_inference_steps"] = "steps",
        ["prompt_strength"] = "strength",
        ["output_quality"] = "output_compression",
    };

    /// <param name="Refusal">An answer OpenAI gives before validation (url asked of a GPT image model).</param>
    public sealed record ParsedRequest(GenerationInput Input, string? Model, bool AsUrl, OpenAiImageOptions Options, IResult? Refusal = null);

    public static ParsedRequest Parse(LooseFields fields, byte[]? image, byte[]? mask)
    {
        var model = fields.String("model");
        var options = OpenAiImageOptions.Parse(fields, model, edit: image is not null);
        int? width = null, height = null;
        if (fields.String("size") is { } size && !size.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            var parts = size.Split('x', 'X');
            if (parts.Length == 2
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h))
            {
                (width, height) = (w, h);
            }
            else
            {
                fields.Errors["size"] = $"must be WIDTHxHEIGHT (e.g. 512x512) or 'auto', not '{size}'";
            }
        }
        var format = fields.String("response_format");
        if (format is not (null or "url" or "b64_json"))
        {
            fields.Errors["response_format"] = "must be 'url' or 'b64_json'";
        }
        // GPT image models answer b64_json only; dall-e and our own names default to url, as OpenAI documents.
        var asUrl = format is null ? !options.GptImage : format == "url";
        var input = new GenerationInput
        {
            Prompt = fields.String("prompt"),
            NegativePrompt = fields.String("negative_prompt"),
            Width = width,
            Height = height,
            NumOutputs = fields.Int("n"),
            NumInferenceSteps = fields.Int("steps"),
            GuidanceScale = fields.Double("guidance_scale"),
            Scheduler = fields.String("scheduler"),
            Seed = fields.Long("seed"),
            Rng = fields.String("rng"),
            Eta = fields.Double("eta"),
            OutputFormat = fields.String("output_format"),
            OutputQuality = options.Compression is { } c ? Math.Max(1, c) : null,
            ImageBytes = image,
            MaskBytes = mask,
            PromptStrength = fields.Double("strength"),
        };
        var refusal = asUrl && options.NamedGptImage ? OpenAiErrors.Of(StatusCodes.Status400BadRequest,
            $"Unknown parameter: 'response_format' ('url'). The GPT image models ({model}) always return b64_json; leave response_format out, or name a dall-e model or a served model for URLs.",
            "invalid_request_error", "response_format", "unknown_parameter") : null;
        return new ParsedRequest(input, model, asUrl, options, refusal);
    }

    /// <summary>OpenAI's own model ids mean "the default model", so clients that hard-code them still work.</summary>
    public static string? ModelReference(string? model)
        => string.IsNullOrWhiteSpace(model) || model.StartsWith("dall-e", StringComparison.OrdinalIgnoreCase)
            || model.StartsWith("gpt-image", StringComparison.OrdinalIgnoreCase) ? null : model;

    public static Dictionary<string, string[]> RenameFields(IReadOnlyDictionary<string, string[]> errors)
    {
        var renamed = new Dictionary<string, string[]>();
        foreach (var (field, messages) in errors)
        {
            var name = ParamNames.GetValueOrDefault(field, field);
            renamed[name] = renamed.TryGetValue(name, out var existing)
                ? [.. existing, .. messages.Select(m => $"({field}) {m}")]
                : name == field ? messages : messages.Select(m => $"({field}) {m}").ToArray();
        }
        return renamed;
    }
}
