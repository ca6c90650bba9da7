using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>OpenAI's image response: <c>{created, data:[...]}</c>.</summary>
internal sealed record OpenAiImagesResponse(
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiImage> Data);

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
