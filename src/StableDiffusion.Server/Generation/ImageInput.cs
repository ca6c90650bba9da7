using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Server.Generation;

/// <summary>Decodes image inputs given as data URIs: PNG, JPEG or WebP only, size checked before decoding.</summary>
public static class ImageInput
{
    // Only these decoders exist in this configuration, so GIF/BMP/TIFF bombs are refused by construction.
    private static readonly SixLabors.ImageSharp.Configuration Formats = new(
        new PngConfigurationModule(), new JpegConfigurationModule(), new WebpConfigurationModule());

    /// <summary>Decodes <paramref name="value"/>; on failure returns null and a message for the client.</summary>
    public static RgbImage? TryDecode(string value, int maxPixels, out string? error)
    {
        error = null;
        if (value.StartsWith("http:", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
        {
            // Fetching user-given URLs would be an SSRF vector (DESIGN §5): inputs come inline.
            error = "image URLs are not accepted; send the image as a data URI (data:image/png;base64,...)";
            return null;
        }
        if (!value.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            error = "must be a data URI (data:image/png;base64,...)";
            return null;
        }
        var comma = value.IndexOf(',');
        if (comma < 0 || !value.AsSpan(0, comma).EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
        {
            error = "must be a base64 data URI (data:image/png;base64,...)";
            return null;
        }
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value[(comma + 1)..]);
        }
        catch (FormatException)
        {
            error = "the data URI's base64 payload is malformed";
            return null;
        }

        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            var info = Image.Identify(Formats, stream);
            if (info is null)
            {
                error = "not a PNG, JPEG or WebP image";
                return null;
            }
            if ((long)info.Width * info.Height > maxPixels)
            {
                error = $"the image has {info.Width}x{info.Height} pixels; at most {maxPixels} are accepted";
                return null;
            }
            using var image = Image.Load<Rgb24>(Formats, bytes);
            var rgb = RgbImage.Create(image.Width, image.Height);
            image.CopyPixelDataTo(MemoryMarshal.Cast<byte, Rgb24>(rgb.Pixels.AsSpan()));
            return rgb;
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException)
        {
            error = "not a readable PNG, JPEG or WebP image";
            return null;
        }
    }
}
