using System.ComponentModel;
using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Generation;

/// <summary>
/// The raw, unvalidated inputs of a generation, named as Replicate's stable-diffusion model names them.
/// Every API surface fills one of these and hands it to <see cref="GenerationRequestValidator"/>.
/// </summary>
internal sealed record GenerationInput
{
    [JsonPropertyName("prompt"), Description("What to draw.")]
    public string? Prompt { get; init; }

    [JsonPropertyName("negative_prompt"), Description("What not to draw.")]
    public string? NegativePrompt { get; init; }

    [JsonPropertyName("width"), Description("Output width in pixels, a multiple of 8; the model's native width by default.")]
    public int? Width { get; init; }

    [JsonPropertyName("height"), Description("Output height in pixels, a multiple of 8; the model's native height by default.")]
    public int? Height { get; init; }

    [JsonPropertyName("size"), Description("Instead of width and height: WIDTHxHEIGHT in pixels, e.g. 768x512 (the AI SDK's Replicate provider sends it).")]
    public string? Size { get; init; }

    [JsonPropertyName("aspect_ratio"), Description("Instead of width and height: W:H, e.g. 16:9. The size keeps about the model's native pixel count (native width x native height), each side rounded to the nearest multiple of 8 (or of the model's latent factor when larger); 16:9 on a 512x512 model is 680x384.")]
    public string? AspectRatio { get; init; }

    [JsonPropertyName("num_outputs"), Description("Images to generate (image k uses seed + k).")]
    public int? NumOutputs { get; init; }

    [JsonPropertyName("num_inference_steps"), Description("Denoising steps.")]
    public int? NumInferenceSteps { get; init; }

    [JsonPropertyName("guidance_scale"), Description("Classifier-free guidance scale; 1 or less turns guidance off.")]
    public double? GuidanceScale { get; init; }

    [JsonPropertyName("scheduler"), Description("DDIM, K_EULER, K_EULER_ANCESTRAL, DPMSolverMultistep, PNDM, KarrasDPM, LMS, HeunDiscrete, DPMSolverMultistepSDE, KarrasDPMSDE, K_DPM_2, K_DPM_2_ANCESTRAL, UniPCMultistep, LCM, DEISMultistep or DPMSolverSinglestep (or a diffusers class name); the model's own by default.")]
    public string? Scheduler { get; init; }

    [JsonPropertyName("sigma_schedule"), Description("karras or exponential (diffusers' use_karras_sigmas / use_exponential_sigmas), or another A1111 schedule type (uniform, polyexponential, sgm_uniform, kl_optimal, align_your_steps, simple, normal, ddim, beta) for the σ-schedule schedulers (K_EULER, K_EULER_ANCESTRAL, LMS, HeunDiscrete, K_DPM_2, K_DPM_2_ANCESTRAL, DPM-Solver, UniPCMultistep, DEISMultistep); the model's scheduler_config.json by default.")]
    public string? SigmaSchedule { get; init; }

    [JsonPropertyName("rng"), Description("Noise source: cpu (torch.Generator('cpu'), what diffusers scripts draw; the default), nv (AUTOMATIC1111's NV/GPU source), numpy (diffusers' ONNX pipelines; seeds up to 2^32-1), xoshiro (this server's own generator), cpu-scalar (torch without AVX2). Image k uses a generator seeded seed + k.")]
    public string? Rng { get; init; }

    [JsonPropertyName("eta"), Description("DDIM's eta, 0..1: 0 is deterministic DDIM, 1 adds DDPM-like noise from the seed's generator. Other schedulers ignore it.")]
    public double? Eta { get; init; }

    [JsonPropertyName("seed"), Description("Random seed; random when absent (the seed used is written to the logs).")]
    public long? Seed { get; init; }

    [JsonPropertyName("output_format"), Description("png (default), webp or jpg.")]
    public string? OutputFormat { get; init; }

    [JsonPropertyName("output_quality"), Description("WebP/JPEG quality, 1..100 (default 80, as Replicate's models); PNG ignores it.")]
    public int? OutputQuality { get; init; }

    [JsonPropertyName("image"), Description("Input image: a data URI, or the URL or id of a file uploaded with POST /v1/files. With it a text-to-image model does img2img (inpainting with a mask); inpainting, depth and upscaler models require it.")]
    public string? Image { get; init; }

    [JsonPropertyName("mask"), Description("Inpainting mask (white = repaint), as image.")]
    public string? Mask { get; init; }

    [JsonPropertyName("prompt_strength"), Description("How much of the input image to replace, 0..1 (img2img, inpainting, depth-to-image).")]
    public double? PromptStrength { get; init; }

    [JsonPropertyName("noise_level"), Description("x4 upscaler: noise added to the low-resolution image, 0..max_noise_level (default 20).")]
    public int? NoiseLevel { get; init; }

    /// <summary>The image as it arrived in a file part (OpenAI edits): bytes, decoded once by the validator; wins over <see cref="Image"/>.</summary>
    [JsonIgnore]
    public byte[]? ImageBytes { get; init; }

    /// <summary>The mask as it arrived in a file part; wins over <see cref="Mask"/>.</summary>
    [JsonIgnore]
    public byte[]? MaskBytes { get; init; }

    [JsonPropertyName("depth_image"), Description("Depth-to-image: a grey depth map (white = near), as image; estimated from the image when absent and the model can.")]
    public string? DepthImage { get; init; }
}
