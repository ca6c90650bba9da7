using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Pipelines;

/// <summary>
/// One validated generation request as Core sees it. Validation (limits, sizes, formats) happens at the edge
/// (CLI, HTTP); the pipeline trusts these values.
/// </summary>
public sealed record GenerationSettings
{
    /// <summary>diffusers' StableDiffusionPipeline guidance_scale default.</summary>
    public const double DefaultGuidanceScale = 7.5;
    /// <summary>diffusers' img2img strength default.</summary>
    public const double DefaultPromptStrength = 0.8;
    /// <summary>diffusers' StableDiffusionUpscalePipeline noise_level default.</summary>
    public const int DefaultNoiseLevel = 20;

    public GenerationTask Task { get; init; } = GenerationTask.TextToImage;
    public string Prompt { get; init; } = "";
    public string NegativePrompt { get; init; } = "";
    /// <summary>Output width in pixels (multiple of 8); null = the model's native size.</summary>
    public int? Width { get; init; }
    /// <summary>Output height in pixels (multiple of 8); null = the model's native size.</summary>
    public int? Height { get; init; }
    public int Steps { get; init; } = 25;
    /// <summary>Classifier-free guidance scale; at or below 1 the unconditional half is skipped.</summary>
    public double GuidanceScale { get; init; } = DefaultGuidanceScale;
    /// <summary>Scheduler name (Replicate or diffusers class name); null = the model's configured scheduler.</summary>
    public string? Scheduler { get; init; }
    /// <summary>Seed of image 0; with <see cref="Randomness.NoiseBatching.PerImage"/> image k of the batch uses Seed + k.</summary>
    public long Seed { get; init; }
    /// <summary>Noise source (<see cref="Randomness.RandomSource"/>: cpu, nv, numpy, xoshiro, cpu-scalar); null = cpu, torch's
    /// CPU generator as diffusers uses it.</summary>
    public string? Rng { get; init; }
    /// <summary>Per-image generators seeded seed + k (A1111; the default) or one generator for the batch (diffusers' single
    /// <c>generator=</c>).</summary>
    public Randomness.NoiseBatching NoiseBatching { get; init; }
    /// <summary>DDIM's η (0 = deterministic DDIM); ignored by the other schedulers.</summary>
    public double Eta { get; init; }
    /// <summary><c>karras</c> or <c>exponential</c> sigmas for schedulers that offer them (A1111's schedule types);
    /// null = the model's scheduler_config.json.</summary>
    public string? SigmaSchedule { get; init; }
    public int NumOutputs { get; init; } = 1;
    /// <summary>Caller-supplied initial latents [NumOutputs, 4, h, w] (diffusers' <c>latents=</c>: multiplied by init_noise_sigma).</summary>
    public float[]? Latents { get; init; }
    /// <summary>Invisible watermark payload (UTF-8); null = no watermark.</summary>
    public string? WatermarkPayload { get; init; } = InvisibleWatermark.DefaultPayload;
    /// <summary>What the final encode stage writes: PNG (with the parameters chunk), WebP or JPEG.</summary>
    public OutputFormat OutputFormat { get; init; } = OutputFormat.Png;
    /// <summary>WebP/JPEG quality, 1..100 (PNG ignores it).</summary>
    public int OutputQuality { get; init; } = ImageEncoder.DefaultQuality;
    /// <summary>Name written into the PNG's parameters chunk.</summary>
    public string? ModelName { get; init; }

    // img2img, inpainting, upscaling, depth-to-image.
    public RgbImage? Image { get; init; }
    /// <summary>Inpainting mask (white = repaint), same size as <see cref="Image"/>.</summary>
    public RgbImage? Mask { get; init; }
    /// <summary>img2img/inpaint strength in [0, 1]: 1 = ignore the input image.</summary>
    public double PromptStrength { get; init; } = DefaultPromptStrength;
    /// <summary>x4 upscaler noise level (class_labels).</summary>
    public int NoiseLevel { get; init; } = DefaultNoiseLevel;
    /// <summary>Depth-to-image: a grey depth map (white = near); null = estimate it with the model's depth_estimator.</summary>
    public RgbImage? DepthImage { get; init; }
    /// <summary>Text to image only: A1111's hires fix (first pass at Width×Height, second at the fix's size); null = off.</summary>
    public HiresFix? HiresFix { get; init; }
    /// <summary>Per-request switch of a loaded safety checker; null = on when the model loaded one. It cannot turn on a
    /// checker the model was loaded without.</summary>
    public bool? SafetyChecker { get; init; }
}
