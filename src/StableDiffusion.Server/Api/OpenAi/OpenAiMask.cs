using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// OpenAI's edit masks mark the area to repaint with transparency ("fully transparent areas indicate where the image
/// should be edited"); the pipeline's masks are white where it repaints (diffusers' convention). A mask with
/// transparent pixels is converted; an opaque mask is taken as a white-means-repaint mask.
/// </summary>
internal static class OpenAiMask
{
    public static byte[] ToRepaintMask(byte[] bytes, int maxPixels)
    {
        try
        {
            // Only PNG carries the alpha channel this conversion is about; anything else goes to the validator unchanged.
            // Core's container walk drops the PNG's metadata first, so a text-chunk bomb is not inflated here either.
            if (Core.Imaging.ImageDecoder.DetectFormat(bytes) != Core.Imaging.ImageFormatKind.Png)
            {
                return bytes;
            }
            var container = Core.Imaging.ImageDecoder.Identify(bytes, "mask", new Core.Imaging.ImageLimits { MaxBytes = long.MaxValue, MaxPixels = maxPixels });
            using var image = Core.Imaging.ImageDecoder.Load<Rgba32>(container);
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
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            // A mask we cannot read (ImageSharp also throws NullReference/IndexOutOfRange on corrupt data) goes to the
            // validator unchanged, which refuses it with the shared limits and messages.
            return bytes;
        }
    }
}
