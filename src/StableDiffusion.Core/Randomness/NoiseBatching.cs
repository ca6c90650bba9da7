namespace StableDiffusion.Core.Randomness;

/// <summary>How the images of one batch get their noise.</summary>
public enum NoiseBatching
{
    /// <summary>Image k has its own generator seeded with seed + k (AUTOMATIC1111, and diffusers given a list of generators
    /// <c>[Generator().manual_seed(seed + k) for k]</c>): any image of a batch can be reproduced alone. The default.</summary>
    PerImage,

    /// <summary>One generator seeded with seed draws each noise tensor for the whole batch at once (diffusers given one
    /// <c>generator=</c>): image k then depends on the batch size.</summary>
    OneGenerator,
}
