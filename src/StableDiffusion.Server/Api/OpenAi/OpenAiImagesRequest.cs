using System.ComponentModel;
using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// The body of <c>POST /v1/images/generations</c> (for the API description; the endpoint reads the body leniently
/// through <see cref="LooseFields"/>). The last seven fields are our extras; OpenAI's other fields are accepted and ignored.
/// </summary>
internal sealed record OpenAiGenerationRequest
{
    [JsonPropertyName("prompt"), Description("What to draw.")]
    public required string Prompt { get; init; }

    [JsonPropertyName("model"), Description("A served model (name or owner/name); OpenAI model ids (dall-e-2, dall-e-3, gpt-image-1) mean the default model.")]
    public string? Model { get; init; }

    [JsonPropertyName("n"), Description("Images to generate (image k uses seed + k).")]
    public int? N { get; init; }

    [JsonPropertyName("size"), Description("WIDTHxHEIGHT in pixels, multiples of 8 (e.g. 512x512); 'auto' or absent = the model's native size.")]
    public string? Size { get; init; }

    [JsonPropertyName("response_format"), Description("url (default; valid while the result is retained) or b64_json.")]
    public string? ResponseFormat { get; init; }

    [JsonPropertyName("output_format"), Description("png (default), jpeg or webp.")]
    public string? OutputFormat { get; init; }

    [JsonPropertyName("negative_prompt"), Description("Extra: what not to draw.")]
    public string? NegativePrompt { get; init; }

    [JsonPropertyName("seed"), Description("Extra: random seed; random when absent.")]
    public long? Seed { get; init; }

    [JsonPropertyName("steps"), Description("Extra: denoising steps.")]
    public int? Steps { get; init; }

    [JsonPropertyName("guidance_scale"), Description("Extra: classifier-free guidance scale.")]
    public double? GuidanceScale { get; init; }

    [JsonPropertyName("scheduler"), Description("Extra: a scheduler name as in the native API (DDIM, K_EULER, K_EULER_ANCESTRAL, DPMSolverMultistep, PNDM, KarrasDPM, LMS, HeunDiscrete, DPMSolverMultistepSDE, KarrasDPMSDE, K_DPM_2, K_DPM_2_ANCESTRAL, UniPCMultistep, LCM, DEISMultistep, DPMSolverSinglestep).")]
    public string? Scheduler { get; init; }

    [JsonPropertyName("rng"), Description("Extra: noise source, cpu (torch.Generator('cpu') as diffusers; default), nv (A1111 NV/GPU), numpy (diffusers ONNX), xoshiro.")]
    public string? Rng { get; init; }

    [JsonPropertyName("eta"), Description("Extra: DDIM eta, 0..1.")]
    public double? Eta { get; init; }
}
