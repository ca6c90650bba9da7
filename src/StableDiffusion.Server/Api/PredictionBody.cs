using System.Text.Json;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Webhooks;

namespace StableDiffusion.Server.Api;

/// <summary>Reads a prediction request body by hand, so that a wrong type is reported against its field.</summary>
public sealed record PredictionBody(
    string? Version,
    GenerationInput Input,
    JsonElement RawInput,
    Uri? Webhook,
    IReadOnlySet<string> WebhookEvents,
    bool OutputAsDataUri)
{
    private static readonly Dictionary<string, string> ExpectedTypes = new()
    {
        ["width"] = "an integer", ["height"] = "an integer", ["num_outputs"] = "an integer",
        ["num_inference_steps"] = "an integer", ["seed"] = "an integer",
        ["guidance_scale"] = "a number", ["prompt_strength"] = "a number", ["noise_level"] = "an integer", ["eta"] = "a number",
    };

    /// <summary>Reads and checks the body; <c>TooLarge</c> when it passes <paramref name="maxBytes"/> (chunked bodies included).</summary>
    public static async Task<(PredictionBody? Body, Dictionary<string, string[]>? Errors, bool TooLarge)> ReadAsync(
        HttpRequest request, bool allowPrivateWebhooks, long maxBytes)
    {
        var buffer = await RequestBodies.BufferAsync(request, maxBytes);
        return buffer is null ? (null, null, true) : await ParseAsync(buffer, request, allowPrivateWebhooks);
    }

    /// <summary>Checks a JSON body already read (a multipart prediction is turned into one).</summary>
    public static async Task<(PredictionBody? Body, Dictionary<string, string[]>? Errors, bool TooLarge)> ParseAsync(
        Stream buffer, HttpRequest request, bool allowPrivateWebhooks)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(buffer, default, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return (null, new() { ["body"] = [$"is not valid JSON: {e.Message}"] }, false);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, new() { ["body"] = ["must be a JSON object"] }, false);
            }
            var errors = new Dictionary<string, string[]>();
            string? version = null;
            if (root.TryGetProperty("version", out var v) && v.ValueKind != JsonValueKind.Null)
            {
                if (v.ValueKind == JsonValueKind.String)
                {
                    version = v.GetString();
                }
                else
                {
                    errors["version"] = ["must be a string"];
                }
            }

            GenerationInput? input = null;
            var rawInput = default(JsonElement);
            if (!root.TryGetProperty("input", out var inputElement) || inputElement.ValueKind != JsonValueKind.Object)
            {
                errors["input"] = ["is required and must be a JSON object"];
            }
            else
            {
                rawInput = inputElement.Clone();
                foreach (var property in inputElement.EnumerateObject())
                {
                    if (ExpectedTypes.TryGetValue(property.Name, out var expected) && property.Value.ValueKind != JsonValueKind.Null
                        && property.Value.ValueKind != JsonValueKind.Number)
                    {
                        errors[property.Name] = [$"must be {expected}"];
                    }
                }
                if (errors.Count == 0)
                {
                    try
                    {
                        input = inputElement.Deserialize<GenerationInput>();
                    }
                    catch (JsonException e)
                    {
                        var field = e.Path is { Length: > 2 } path ? path[2..] : "input";
                        errors[field] = [ExpectedTypes.TryGetValue(field, out var expected) ? $"must be {expected}" : "has the wrong type (expected a string)"];
                    }
                }
            }

            Uri? webhook = null;
            if (root.TryGetProperty("webhook", out var w) && w.ValueKind != JsonValueKind.Null)
            {
                var error = w.ValueKind == JsonValueKind.String
                    ? WebhookTargetGuard.ValidateUrl(w.GetString()!, allowPrivateWebhooks, out webhook)
                    : "must be a string";
                if (error is not null)
                {
                    errors["webhook"] = [error];
                }
            }
            var events = new HashSet<string>(WebhookSender.EventNames);
            if (root.TryGetProperty("webhook_events_filter", out var f) && f.ValueKind != JsonValueKind.Null)
            {
                if (f.ValueKind != JsonValueKind.Array || f.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String
                        || !WebhookSender.EventNames.Contains(x.GetString()!)))
                {
                    errors["webhook_events_filter"] = [$"must be an array of {string.Join(", ", WebhookSender.EventNames)}"];
                }
                else
                {
                    events = f.EnumerateArray().Select(x => x.GetString()!).ToHashSet();
                }
            }
            var dataUri = root.TryGetProperty("output_as_data_uri", out var d) && d.ValueKind == JsonValueKind.True;
            if (request.Headers.TryGetValue("X-Output-As-Data-Uri", out var header)
                && string.Equals(header.ToString(), "true", StringComparison.OrdinalIgnoreCase))
            {
                dataUri = true;
            }
            if (errors.Count > 0)
            {
                return (null, errors, false);
            }
            return (new PredictionBody(version, input!, rawInput, webhook, events, dataUri), null, false);
        }
    }
}
