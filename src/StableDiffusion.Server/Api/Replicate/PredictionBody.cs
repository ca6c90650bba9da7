using System.Text.Json;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Webhooks;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>Reads a prediction request body by hand, so that a wrong type is reported against its field.</summary>
internal sealed record PredictionBody(
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
        ["guidance_scale"] = "a number", ["prompt_strength"] = "a number", ["noise_level"] = "an integer", ["eta"] = "a number", ["output_quality"] = "an integer",
    };

    /// <summary>Reads and checks the body, JSON or multipart (its files stored as uploads first).</summary>
    public static async Task<BodyRead<PredictionBody>> ReadAsync(HttpRequest request, ReplicateServices services)
    {
        var limits = services.Limits.Value;
        if (request.ContentLength > limits.BodyLimit)
        {
            return BodyRead<PredictionBody>.Oversized();
        }
        var json = request.HasFormContentType
            ? await MultipartPrediction.ToJsonAsync(request, services.Store, services.Time, limits)
            : await RequestBodies.BufferAsync(request, limits.BodyLimit) is { } buffer
                ? BodyRead<MemoryStream>.Read(buffer) : BodyRead<MemoryStream>.Oversized();
        return json.Ok
            ? await ParseAsync(json.Value, request, services.Webhooks.CurrentValue.AllowPrivateTargets)
            : json.Failed<PredictionBody>();
    }

    /// <summary>Checks a JSON body already read (a multipart prediction is turned into one).</summary>
    public static async Task<BodyRead<PredictionBody>> ParseAsync(Stream buffer, HttpRequest request, bool allowPrivateWebhooks)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(buffer, default, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return BodyRead<PredictionBody>.Invalid("body", $"is not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return BodyRead<PredictionBody>.Invalid("body", "must be a JSON object");
            }
            var errors = new Dictionary<string, string[]>();
            var version = ReadVersion(root, errors);
            var (input, rawInput) = ReadInput(root, errors);
            var webhook = ReadWebhook(root, allowPrivateWebhooks, errors);
            var events = ReadEventsFilter(root, errors);
            var dataUri = root.TryGetProperty("output_as_data_uri", out var d) && d.ValueKind == JsonValueKind.True;
            if (request.Headers.TryGetValue("X-Output-As-Data-Uri", out var header)
                && string.Equals(header.ToString(), "true", StringComparison.OrdinalIgnoreCase))
            {
                dataUri = true;
            }
            return errors.Count > 0
                ? BodyRead<PredictionBody>.Invalid(errors)
                : BodyRead<PredictionBody>.Read(new PredictionBody(version, input!, rawInput, webhook, events, dataUri));
        }
    }

    private static string? ReadVersion(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty("version", out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.String)
        {
            return v.GetString();
        }
        errors["version"] = ["must be a string"];
        return null;
    }

    private static (GenerationInput? Input, JsonElement Raw) ReadInput(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty("input", out var inputElement) || inputElement.ValueKind != JsonValueKind.Object)
        {
            errors["input"] = ["is required and must be a JSON object"];
            return (null, default);
        }
        var rawInput = inputElement.Clone();
        foreach (var property in inputElement.EnumerateObject())
        {
            if (ExpectedTypes.TryGetValue(property.Name, out var expected) && property.Value.ValueKind != JsonValueKind.Null
                && property.Value.ValueKind != JsonValueKind.Number)
            {
                errors[property.Name] = [$"must be {expected}"];
            }
        }
        if (errors.Count > 0)
        {
            return (null, rawInput);
        }
        try
        {
            return (inputElement.Deserialize<GenerationInput>(), rawInput);
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 2 } path ? path[2..] : "input";
            errors[field] = [ExpectedTypes.TryGetValue(field, out var expected) ? $"must be {expected}" : "has the wrong type (expected a string)"];
            return (null, rawInput);
        }
    }

    private static Uri? ReadWebhook(JsonElement root, bool allowPrivateWebhooks, Dictionary<string, string[]> errors)
    {
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
        return webhook;
    }

    private static HashSet<string> ReadEventsFilter(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty("webhook_events_filter", out var f) || f.ValueKind == JsonValueKind.Null)
        {
            return new HashSet<string>(WebhookSender.EventNames);
        }
        if (f.ValueKind != JsonValueKind.Array || f.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String
                || !WebhookSender.EventNames.Contains(x.GetString()!)))
        {
            errors["webhook_events_filter"] = [$"must be an array of {string.Join(", ", WebhookSender.EventNames)}"];
            return new HashSet<string>(WebhookSender.EventNames);
        }
        return f.EnumerateArray().Select(x => x.GetString()!).ToHashSet();
    }
}
