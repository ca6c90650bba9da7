using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;

namespace StableDiffusion.Server.Generation;

/// <summary>Turns the pipeline's PNG into the requested output format.</summary>
public static class OutputEncoder
{
    public static byte[] Encode(byte[] png, OutputFormat format)
    {
        if (format == OutputFormat.Png)
        {
            return png;
        }
        using var image = Image.Load(png);
        using var stream = new MemoryStream();
        if (format == OutputFormat.Webp)
        {
            // Replicate's stable-diffusion models write WebP at quality 80 (their output_quality default).
            image.Save(stream, new WebpEncoder { Quality = 80 });
        }
        else
        {
            image.Save(stream, new JpegEncoder { Quality = 80 });
        }
        return stream.ToArray();
    }
}
