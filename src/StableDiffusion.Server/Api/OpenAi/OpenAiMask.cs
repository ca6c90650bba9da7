using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// OpenAI's edit masks mark the area to repaint with transparency ("fully transparent areas indicate where the image
/// should be edited"); the pipeline's masks are white where it repaints (diffusers' convention). A mask with
/// transparent pixels is converted; an opaque mask is taken as a white-means-repaint mask.
/// </summary>
internal static class OpenAiMask
{
    // Only PNG carries the alpha channel this conversion is about; anything else goes to the validator unchanged.
    private static readonly SixLabors.ImageSharp.Configuration PngOnly = new(new PngConfigurationModule());

    public static byte[] ToRepaintMask(byte[] bytes, int maxPixels)
    {
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            var info = Image.Identify(PngOnly, stream);
            if (info is null || (long)info.Width * info.Height > maxPixels)
            {
                return bytes; // the validator reports it, with the shared limits and messages
            }
            using var image = Image.Load<Rgba32>(PngOnly, bytes);
            var transparent = false;
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height && !transparent; y++)
                {
                    foreach (var pixel in rows.GetRowSpan(y))
                    {
                        if (pixel.A == 0)
                        {
                            transparent = true;
                            break;
                        }
                    }
                }
            });
            if (!transparent)
            {
                return bytes;
            }
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (var x = 0; x < row.Length; x++)
                    {
                        row[x] = row[x].A == 0 ? new Rgba32(255, 255, 255, 255) : new Rgba32(0, 0, 0, 255);
                    }
                }
            });
            using var output = new MemoryStream();
            image.SaveAsPng(output);
            return output.ToArray();
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException)
        {
            return bytes;
        }
    }
}
