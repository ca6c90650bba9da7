using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Server.Generation;

/// <summary>What the server uses for a field a client leaves out, defined once: the validator, the AUTOMATIC1111
/// translation and the model schema all read these.</summary>
internal static class GenerationDefaults
{
    /// <summary>Replicate's stable-diffusion model default (Core's library default, for its own callers, is 25).</summary>
    public const int Steps = 50;
    public const double GuidanceScale = GenerationSettings.DefaultGuidanceScale;
    public const double PromptStrength = GenerationSettings.DefaultPromptStrength;
    public const int NoiseLevel = GenerationSettings.DefaultNoiseLevel;
    /// <summary>diffusers' StableDiffusionUpscalePipeline max_noise_level (Core checks the model's own).</summary>
    public const int MaxNoiseLevel = 350;
    public const int UpscaleFactor = 4;
}
