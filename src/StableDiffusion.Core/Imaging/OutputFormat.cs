namespace StableDiffusion.Core.Imaging;

/// <summary>The file format of output images (the final encode stage writes it).</summary>
public enum OutputFormat
{
    Png,
    Webp,
    Jpg,
}
