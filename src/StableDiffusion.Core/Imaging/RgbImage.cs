namespace StableDiffusion.Core.Imaging;

/// <summary>An 8-bit RGB image, row-major, 3 bytes per pixel, no padding.</summary>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    public static RgbImage Create(int width, int height) => new(width, height, new byte[checked(width * height * 3)]);
}
