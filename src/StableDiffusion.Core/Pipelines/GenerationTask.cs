namespace StableDiffusion.Core.Pipelines;

/// <summary>What a generation does; a model's kind decides which of these it offers.</summary>
public enum GenerationTask
{
    TextToImage,
    ImageToImage,
    Inpaint,
    Upscale,
    DepthToImage,
}
