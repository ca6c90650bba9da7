using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Server.Generation;

/// <summary>
/// A validated generation, shared by every API surface: the only thing a job carries to the worker.
/// Sizes, counts and names have been checked against the limits and the model.
/// </summary>
public sealed record GenerationRequest
{
    public required string Model { get; init; }
    public GenerationTask Task { get; init; } = GenerationTask.TextToImage;
    public required string Prompt { get; init; }
    public string NegativePrompt { get; init; } = "";
    public required int Width { get; init; }
    public required int Height { get; init; }
    public int NumOutputs { get; init; } = 1;
    public int Steps { get; init; } = 25;
    public double GuidanceScale { get; init; } = 7.5;
    /// <summary>Canonical scheduler name; null = the model's own.</summary>
    public string? Scheduler { get; init; }
    public required long Seed { get; init; }
    /// <summary>Noise source (Core's RandomSource name); null = cpu, diffusers' torch generator.</summary>
    public string? Rng { get; init; }
    /// <summary>DDIM's η.</summary>
    public double Eta { get; init; }
    /// <summary>karras or exponential; null = the model's config.</summary>
    public string? SigmaSchedule { get; init; }
    /// <summary>False when the seed was drawn by the server (so the logs say it was random).</summary>
    public bool SeedGiven { get; init; }
    public OutputFormat OutputFormat { get; init; } = OutputFormat.Png;
    public RgbImage? Image { get; init; }
    public RgbImage? Mask { get; init; }
    public double PromptStrength { get; init; } = 0.8;
    /// <summary>x4 upscaler noise level.</summary>
    public int NoiseLevel { get; init; } = 20;
    public RgbImage? DepthImage { get; init; }

    /// <summary>The Core settings for this request.</summary>
    public GenerationSettings ToSettings(string? watermarkPayload) => new()
    {
        Task = Task,
        Prompt = Prompt,
        NegativePrompt = NegativePrompt,
        // The upscaler's output size is 4x its input; Core refuses an explicit size for it.
        Width = Task == GenerationTask.Upscale ? null : Width,
        Height = Task == GenerationTask.Upscale ? null : Height,
        Steps = Steps,
        GuidanceScale = GuidanceScale,
        Scheduler = Scheduler,
        Seed = Seed,
        Rng = Rng,
        Eta = Eta,
        SigmaSchedule = SigmaSchedule,
        NumOutputs = NumOutputs,
        WatermarkPayload = watermarkPayload,
        ModelName = Model,
        Image = Image,
        Mask = Mask,
        PromptStrength = PromptStrength,
        NoiseLevel = NoiseLevel,
        DepthImage = DepthImage,
    };
}
