using System.ComponentModel;
using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// The body of <c>POST /v1/images/generations</c> (for the API description; the endpoint reads the body leniently
/// through <see cref="LooseFields"/>). The fields marked Extra are ours; OpenAI's other fields (style, user,
/// moderation, input_fidelity) are checked against OpenAI's values and otherwise ignored.
/// </summary>
internal sealed record OpenAiGenerationRequest
{
    [JsonPropertyName("prompt"), Description("What to draw.")]
    public required string Prompt { get; init; }

    [JsonPropertyName("model"), Description("A served model (name or owner/name); OpenAI model ids (dall-e-2, dall-e-3, gpt-image-1, any gpt-image-*) mean the default model. The id picks the answer's shape as on OpenAI: gpt-image-* answers b64_json only (with usage), dall-e-* and served names default to url.")]
    public string? Model { get; init; }

    [JsonPropertyName("n"), Description("Images to generate (image k uses seed + k).")]
    public int? N { get; init; }

    [JsonPropertyName("size"), Description("WIDTHxHEIGHT in pixels, multiples of 8 (e.g. 512x512); 'auto' or absent = the model's native size.")]
    public string? Size { get; init; }

    [JsonPropertyName("response_format"), Description("url (valid while the result is retained) or b64_json. Default: b64_json for gpt-image-* (which refuse url, as OpenAI), and for no model when a GPT-image-only field is sent; url otherwise.")]
    public string? ResponseFormat { get; init; }

    [JsonPropertyName("output_format"), Description("png (default), jpeg or webp.")]
    public string? OutputFormat { get; init; }

    [JsonPropertyName("output_compression"), Description("0..100: the jpeg/webp quality (0 is taken as 1); png ignores it.")]
    public int? OutputCompression { get; init; }

    [JsonPropertyName("quality"), Description("standard, hd, low, medium, high or auto: accepted and echoed (low/medium/high); steps decide the quality here.")]
    public string? Quality { get; init; }

    [JsonPropertyName("background"), Description("transparent, opaque or auto: accepted; images are always opaque (the response says so).")]
    public string? Background { get; init; }

    [JsonPropertyName("stream"), Description("true: server-sent events, one image_generation.completed per image (no partial images).")]
    public bool? Stream { get; init; }

    [JsonPropertyName("partial_images"), Description("0..3: accepted; no partial image is sent (OpenAI allows the final image first).")]
    public int? PartialImages { get; init; }

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
