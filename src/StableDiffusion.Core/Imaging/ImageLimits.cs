namespace StableDiffusion.Core.Imaging;

/// <summary>Limits on an input image, checked before anything is decoded.</summary>
public sealed record ImageLimits
{
    /// <summary>Encoded size (after base64 decoding of a data URI).</summary>
    public long MaxBytes { get; init; } = 20L * 1024 * 1024;

    /// <summary>Width × height from the file's header; larger images are refused before decoding (decompression bombs).</summary>
    public long MaxPixels { get; init; } = 4096L * 4096;

    /// <summary>Either side, from the header.</summary>
    public int MaxSide { get; init; } = 8192;

    public static ImageLimits Default { get; } = new();
}
