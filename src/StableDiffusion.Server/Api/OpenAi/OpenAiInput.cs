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
    };

    public sealed record ParsedRequest(GenerationInput Input, string? Model, bool AsUrl);

    public static ParsedRequest Parse(LooseFields fields, byte[]? image, byte[]? mask)
    {
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
        var asUrl = true;
        if (fields.String("response_format") is { } format)
        {
            if (format is "b64_json")
            {
                asUrl = false;
            }
            else if (format is not "url")
            {
                fields.Errors["response_format"] = "must be 'url' or 'b64_json'";
            }
        }
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
            ImageBytes = image,
            MaskBytes = mask,
            PromptStrength = fields.Double("strength"),
        };
        return new ParsedRequest(input, fields.String("model"), asUrl);
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
