using System.Text.Json.Nodes;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>The native API's examples in the API description, attached to their routes.</summary>
internal static class ReplicateExamples
{
    public static readonly JsonObject RequestExample = new()
    {
        ["version"] = "demo-random-weights",
        ["input"] = new JsonObject
        {
            ["prompt"] = "an astronaut riding a horse on the moon",
            ["negative_prompt"] = "blurry",
            ["width"] = 512,
            ["height"] = 512,
            ["num_outputs"] = 1,
            ["num_inference_steps"] = 25,
            ["guidance_scale"] = 7.5,
            ["scheduler"] = "K_EULER",
            ["seed"] = 42,
            ["output_format"] = "png",
        },
        ["webhook"] = "https://example.com/hooks/sd",
        ["webhook_events_filter"] = new JsonArray("start", "completed"),
    };

    public static JsonObject PredictionExample(string status) => new()
    {
        ["id"] = "rrr4z55ocneqzikepnug6xezpe",
        ["model"] = "local/demo-random-weights",
        ["version"] = "demo-random-weights",
        ["input"] = RequestExample["input"]!.DeepClone(),
        ["logs"] = status == "starting" ? "" : "Using seed: 42\n 48%|████▊     | 12/25 [00:01<00:01,  9.80it/s]\n",
        ["output"] = status == "succeeded" ? new JsonArray("https://sd.example.com/v1/files/k4tq2mrwkzmm5dc7ztg5b4lq3e") : null,
        ["error"] = null,
        ["status"] = status,
        ["created_at"] = "2026-01-01T12:00:00.000000Z",
        ["started_at"] = status == "starting" ? null : "2026-01-01T12:00:00.250000Z",
        ["completed_at"] = status == "succeeded" ? "2026-01-01T12:00:03.100000Z" : null,
        ["urls"] = new JsonObject
        {
            ["get"] = "https://sd.example.com/v1/predictions/rrr4z55ocneqzikepnug6xezpe",
            ["cancel"] = "https://sd.example.com/v1/predictions/rrr4z55ocneqzikepnug6xezpe/cancel",
            ["stream"] = "https://sd.example.com/v1/predictions/rrr4z55ocneqzikepnug6xezpe/stream",
        },
        ["metrics"] = new JsonObject
        {
            ["predict_time"] = status == "succeeded" ? 2.85 : null,
            ["queue_time"] = status == "starting" ? null : 0.25,
        },
    };

    public static readonly JsonObject ValidationExample = new()
    {
        ["type"] = "https://tools.ietf.org/html/rfc4918#section-11.2",
        ["title"] = InputProblem.Title,
        ["status"] = 422,
        ["detail"] = "'width' must be a multiple of 8; 'aspect_ratio' conflicts with 'width': give width/height, size or aspect_ratio, not several that disagree.",
        ["errors"] = new JsonObject
        {
            ["width"] = new JsonArray("must be a multiple of 8"),
            ["aspect_ratio"] = new JsonArray("conflicts with 'width': give width/height, size or aspect_ratio, not several that disagree"),
        },
        ["invalid_fields"] = new JsonArray(
            new JsonObject { ["type"] = "invalid", ["field"] = "width", ["description"] = "must be a multiple of 8" }),
    };

    public static readonly JsonObject QueueFullExample = new()
    {
        ["type"] = "https://tools.ietf.org/html/rfc6585#section-4",
        ["title"] = "Queue full",
        ["status"] = 429,
        ["detail"] = "All 64 queue slots are taken; retry after 5 s. No prediction was created.",
    };

    public static readonly JsonObject ModelExample = new()
    {
        ["url"] = "https://sd.example.com/v1/models/local/demo-random-weights",
        ["owner"] = "local",
        ["name"] = "demo-random-weights",
        ["description"] = "Synthetic demo model with random weights: its images are noise.",
        ["visibility"] = "public",
        ["github_url"] = null,
        ["paper_url"] = null,
        ["license_url"] = null,
        ["run_count"] = 0,
        ["cover_image_url"] = null,
        ["default_example"] = null,
        ["latest_version"] = new JsonObject
        {
            ["id"] = "demo-random-weights",
            ["created_at"] = "1970-01-01T00:00:00.000000Z",
            ["cog_version"] = null,
            ["openapi_schema"] = new JsonObject
            {
                ["openapi"] = "3.0.2",
                ["components"] = new JsonObject
                {
                    ["schemas"] = new JsonObject
                    {
                        ["Input"] = new JsonObject
                        {
                            ["type"] = "object",
                            ["required"] = new JsonArray("prompt"),
                            ["properties"] = new JsonObject
                            {
                                ["prompt"] = new JsonObject { ["type"] = "string", ["title"] = "Prompt" },
                                ["width"] = new JsonObject { ["type"] = "integer", ["default"] = 512, ["multipleOf"] = 8 },
                            },
                        },
                    },
                },
            },
        },
    };

    public static readonly JsonObject WebhookSecret = new() { ["key"] = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH" };

    public static JsonObject Page(JsonNode item, string? next = null) => new()
    {
        ["next"] = next, ["previous"] = null, ["results"] = new JsonArray(item),
    };
}
