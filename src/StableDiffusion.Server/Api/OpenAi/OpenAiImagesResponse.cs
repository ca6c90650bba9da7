using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// OpenAI's image response: <c>{created, data:[...]}</c>; for the GPT image models also what was made
/// (<c>background</c>, <c>output_format</c>, <c>size</c>, <c>quality</c>) and <c>usage</c>, as OpenAI sends them.
/// </summary>
internal sealed record OpenAiImagesResponse(
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiImage> Data)
{
    [JsonPropertyName("background"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Background { get; init; }

    [JsonPropertyName("output_format"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OutputFormat { get; init; }

    [JsonPropertyName("size"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Size { get; init; }

    [JsonPropertyName("quality"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Quality { get; init; }

    [JsonPropertyName("usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public OpenAiImageUsage? Usage { get; init; }
}

/// <summary>One image: <c>b64_json</c> or <c>url</c> (the other is left out), and the prompt that was used.</summary>
internal sealed record OpenAiImage(
    [property: JsonPropertyName("b64_json"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? B64Json,
    [property: JsonPropertyName("url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Url,
    [property: JsonPropertyName("revised_prompt")] string RevisedPrompt);

/// <summary>OpenAI's error body: <c>{error:{message,type,param,code}}</c>.</summary>
internal sealed record OpenAiErrorResponse([property: JsonPropertyName("error")] OpenAiError Error);

internal sealed record OpenAiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
