using System.ComponentModel;
using System.Text.Json.Serialization;
using StableDiffusion.Server.Generation;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>
/// The body of <c>POST /v1/predictions</c> (documentation type: the handler reads the JSON itself so that every
/// error names its field).
/// </summary>
internal sealed record PredictionRequest
{
    [JsonPropertyName("version"), Description("Model name (or owner/name); the default model when absent. Ignored on /v1/models/{owner}/{name}/predictions.")]
    public string? Version { get; init; }

    [JsonPropertyName("input")]
    public required GenerationInput Input { get; init; }

    [JsonPropertyName("webhook"), Description("URL to POST the prediction to on the filtered events.")]
    public string? Webhook { get; init; }

    [JsonPropertyName("webhook_events_filter"), Description("Any of start, output, logs, completed; all of them by default.")]
    public IReadOnlyList<string>? WebhookEventsFilter { get; init; }

    [JsonPropertyName("stream"), Description("Accepted for Replicate compatibility; every prediction can be streamed.")]
    public bool? Stream { get; init; }

    [JsonPropertyName("output_as_data_uri"), Description("Return outputs as data URIs instead of file URLs (also: header X-Output-As-Data-Uri: true).")]
    public bool? OutputAsDataUri { get; init; }
}
