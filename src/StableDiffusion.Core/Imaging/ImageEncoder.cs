using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace StableDiffusion.Core.Imaging;

/// <summary>The final encode stage: PNG with the generation's parameters (<see cref="PngWriter"/>), or WebP/JPEG.</summary>
public static class ImageEncoder
{
    /// <summary>Replicate's stable-diffusion models write WebP and JPEG at quality 80 (their <c>output_quality</c> default).</summary>
    public const int DefaultQuality = 80;

    /// <param name="parameters">The A1111-style parameters text; only PNG carries it.</param>
    /// <param name="quality">WebP/JPEG quality, 1..100; PNG is lossless and ignores it.</param>
    public static byte[] Encode(RgbImage image, string? parameters, OutputFormat format, int quality = DefaultQuality)
    {
        if (format == OutputFormat.Png)
        {
            return PngWriter.Encode(image, parameters);
        }
        using var img = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        using var stream = new MemoryStream();
        if (format == OutputFormat.Webp)
        {
            img.Save(stream, new WebpEncoder { Quality = quality });
        }
        else
        {
            img.Save(stream, new JpegEncoder { Quality = quality });
        }
        return stream.ToArray();
    }

    /// <summary>The stage name in timings and traces ("png" as before; "webp", "jpg").</summary>
    public static string StageName(OutputFormat format) => format switch
    {
        OutputFormat.Webp => "webp",
        OutputFormat.Jpg => "jpg",
        _ => "png",
    };
}
