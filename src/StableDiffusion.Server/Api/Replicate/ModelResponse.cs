using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>A model as Replicate describes it.</summary>
internal sealed record ModelResponse(
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("visibility")] string Visibility,
    [property: JsonPropertyName("github_url")] string? GithubUrl,
    [property: JsonPropertyName("paper_url")] string? PaperUrl,
    [property: JsonPropertyName("license_url")] string? LicenseUrl,
    [property: JsonPropertyName("run_count")] long RunCount,
    [property: JsonPropertyName("cover_image_url")] string? CoverImageUrl,
    [property: JsonPropertyName("default_example")] object? DefaultExample,
    [property: JsonPropertyName("latest_version")] ModelVersionResponse? LatestVersion);

/// <summary>A model version; <c>openapi_schema.components.schemas.Input</c> is the input JSON schema.</summary>
internal sealed record ModelVersionResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("cog_version")] string? CogVersion,
    [property: JsonPropertyName("openapi_schema")] JsonObject OpenApiSchema);

/// <summary>A page of models.</summary>
internal sealed record ModelPage(
    [property: JsonPropertyName("next")] string? Next,
    [property: JsonPropertyName("previous")] string? Previous,
    [property: JsonPropertyName("results")] IReadOnlyList<ModelResponse> Results);

/// <summary>A page of model versions.</summary>
internal sealed record ModelVersionPage(
    [property: JsonPropertyName("next")] string? Next,
    [property: JsonPropertyName("previous")] string? Previous,
    [property: JsonPropertyName("results")] IReadOnlyList<ModelVersionResponse> Results);
