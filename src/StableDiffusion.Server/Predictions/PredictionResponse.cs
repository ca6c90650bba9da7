using System.Text.Json;
using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Predictions;

/// <summary>A prediction on the wire, field for field as Replicate returns it.</summary>
internal sealed record PredictionResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("input")] JsonElement Input,
    [property: JsonPropertyName("logs")] string Logs,
    [property: JsonPropertyName("output")] IReadOnlyList<string>? Output,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("started_at")] string? StartedAt,
    [property: JsonPropertyName("completed_at")] string? CompletedAt,
    [property: JsonPropertyName("urls")] PredictionUrls Urls,
    [property: JsonPropertyName("metrics")] PredictionMetrics Metrics);

/// <summary>Absolute URLs of a prediction's operations.</summary>
internal sealed record PredictionUrls(
    [property: JsonPropertyName("get")] string Get,
    [property: JsonPropertyName("cancel")] string Cancel,
    [property: JsonPropertyName("stream")] string Stream);

/// <summary>Seconds spent running and waiting in the queue; null until known.</summary>
internal sealed record PredictionMetrics(
    [property: JsonPropertyName("predict_time")] double? PredictTime,
    [property: JsonPropertyName("queue_time")] double? QueueTime);

/// <summary>A page of predictions, newest first; <c>next</c> and <c>previous</c> are absolute URLs or null.</summary>
internal sealed record PredictionPage(
    [property: JsonPropertyName("next")] string? Next,
    [property: JsonPropertyName("previous")] string? Previous,
    [property: JsonPropertyName("results")] IReadOnlyList<PredictionResponse> Results);
