using System.Text.Json.Serialization;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Server.Generation;

/// <summary>
/// A validated generation, shared by every API surface: the only thing a job carries to the worker. Core's
/// <see cref="GenerationSettings"/>, checked against the limits and the model, plus what only the server needs.
/// </summary>
internal sealed record GenerationRequest
{
    public required string Model { get; init; }
    /// <summary>What Core runs (the watermark is the worker's to set, from its options).</summary>
    public required GenerationSettings Settings { get; init; }
    /// <summary>Output width in pixels (the upscaler's is 4x its input: Core works it out, so <see cref="Settings"/> leaves it null).</summary>
    public required int Width { get; init; }
    public required int Height { get; init; }
    /// <summary>False when the seed was drawn by the server (so the logs say it was random).</summary>
    public bool SeedGiven { get; init; }

    [JsonIgnore]
    public GenerationTask Task => Settings.Task;
    [JsonIgnore]
    public string Prompt => Settings.Prompt;
    [JsonIgnore]
    public string NegativePrompt => Settings.NegativePrompt;
    [JsonIgnore]
    public int NumOutputs => Settings.NumOutputs;
    [JsonIgnore]
    public int Steps => Settings.Steps;
    [JsonIgnore]
    public double GuidanceScale => Settings.GuidanceScale;
    /// <summary>Canonical scheduler name; null = the model's own.</summary>
    [JsonIgnore]
    public string? Scheduler => Settings.Scheduler;
    [JsonIgnore]
    public long Seed => Settings.Seed;
    [JsonIgnore]
    public RgbImage? Image => Settings.Image;
    [JsonIgnore]
    public RgbImage? Mask => Settings.Mask;
    [JsonIgnore]
    public double PromptStrength => Settings.PromptStrength;
    /// <summary>x4 upscaler noise level.</summary>
    [JsonIgnore]
    public int NoiseLevel => Settings.NoiseLevel;
    [JsonIgnore]
    public RgbImage? DepthImage => Settings.DepthImage;
    /// <summary>The output file format; Core's final stage encodes it, so nothing is encoded twice.</summary>
    [JsonIgnore]
    public OutputFormat OutputFormat => Settings.OutputFormat;

    /// <summary>The same request from another seed (AUTOMATIC1111's <c>n_iter</c> batches continue <c>seed + k</c>).</summary>
    public GenerationRequest WithSeed(long seed) => this with { Settings = Settings with { Seed = seed } };

    /// <summary>The Core settings for this request.</summary>
    public GenerationSettings ToSettings(string? watermarkPayload) => Settings with { WatermarkPayload = watermarkPayload };
}
