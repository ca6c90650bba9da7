using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace StableDiffusion.Core.Imaging;

/// <summary>Encodes RGB8 images as PNG with an AUTOMATIC1111-style <c>parameters</c> text chunk.</summary>
public static class PngWriter
{
    public const string ParametersKeyword = "parameters";

    private static readonly PngEncoder Encoder = new()
    {
        ColorType = PngColorType.Rgb,
        BitDepth = PngBitDepth.Bit8,
        CompressionLevel = PngCompressionLevel.DefaultCompression,
        // Plain tEXt like A1111 writes, so every reader (PIL's info['parameters'], exiftool) sees it.
        TextCompressionThreshold = int.MaxValue,
    };

    public static byte[] Encode(RgbImage image, string? parameters)
    {
        using var img = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        if (parameters is not null)
        {
            img.Metadata.GetPngMetadata().TextData.Add(new PngTextData(ParametersKeyword, parameters, string.Empty, string.Empty));
        }

        using var stream = new MemoryStream();
        img.SaveAsPng(stream, Encoder);
        return stream.ToArray();
    }

    /// <summary>Reads the <c>parameters</c> text chunk back (null when absent).</summary>
    public static string? ReadParameters(byte[] png)
    {
        var info = Image.Identify(png);
        var meta = info?.Metadata.GetPngMetadata();
        return meta?.TextData.FirstOrDefault(t => t.Keyword == ParametersKeyword).Value;
    }
}
