using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace StableDiffusion.Core.Imaging;

/// <summary>Resizing and grey conversion of input images, with the filters diffusers' preprocessing uses.</summary>
/// <remarks>ImageSharp's filters are not bit-identical to PIL's; they are the same kernels (Lanczos-3, bicubic).</remarks>
public static class ImageResizer
{
    /// <summary>Stretches to exactly <paramref name="width"/>×<paramref name="height"/> (no crop, no padding: what
    /// diffusers' <c>VaeImageProcessor.resize</c> does by default). A same-size call returns the input.</summary>
    public static RgbImage Resize(RgbImage image, int width, int height, IResampler? resampler = null)
    {
        if (image.Width == width && image.Height == height)
        {
            return image;
        }

        using var img = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        img.Mutate(x => x.Resize(width, height, resampler ?? KnownResamplers.Lanczos3));
        var result = RgbImage.Create(width, height);
        img.CopyPixelDataTo(result.Pixels);
        return result;
    }

    /// <summary>The largest size with both sides multiples of <paramref name="multiple"/> that fits the image (diffusers'
    /// <c>get_default_height_width</c>: round down).</summary>
    public static (int Width, int Height) RoundDown(int width, int height, int multiple) =>
        (Math.Max(multiple, width - width % multiple), Math.Max(multiple, height - height % multiple));

    /// <summary>PIL's <c>convert("L")</c>: L = (R·19595 + G·38470 + B·7471 + 2^15) >> 16 (ITU-R 601-2 luma, fixed point).</summary>
    public static byte[] ToLuma(RgbImage image)
    {
        var luma = new byte[image.Width * image.Height];
        var p = image.Pixels;
        for (int i = 0; i < luma.Length; i++)
        {
            luma[i] = (byte)((p[3 * i] * 19595 + p[3 * i + 1] * 38470 + p[3 * i + 2] * 7471 + 0x8000) >> 16);
        }

        return luma;
    }

    /// <summary>Resizes an 8-bit grey plane (inpainting masks: grey first, then resized, as diffusers' mask processor does).</summary>
    public static byte[] ResizeLuma(byte[] luma, int width, int height, int newWidth, int newHeight, IResampler? resampler = null)
    {
        if (width == newWidth && height == newHeight)
        {
            return luma;
        }

        using var img = Image.LoadPixelData<L8>(luma, width, height);
        img.Mutate(x => x.Resize(newWidth, newHeight, resampler ?? KnownResamplers.Lanczos3));
        var result = new byte[newWidth * newHeight];
        img.CopyPixelDataTo(result);
        return result;
    }
}
