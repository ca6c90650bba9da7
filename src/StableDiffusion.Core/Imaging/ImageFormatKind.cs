namespace StableDiffusion.Core.Imaging;

/// <summary>The image formats we accept as input (DESIGN §6: PNG, JPEG, WebP only).</summary>
public enum ImageFormatKind
{
    Png,
    Jpeg,
    WebP,
}
