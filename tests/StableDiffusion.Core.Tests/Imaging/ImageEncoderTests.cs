using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Tests.Imaging;

/// <summary>The final encode stage writes the format asked for, once (the server no longer re-encodes Core's PNG).</summary>
public sealed class ImageEncoderTests
{
    private static RgbImage Gradient()
    {
        var image = RgbImage.Create(64, 48);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (byte)(i * 7);
        }
        return image;
    }

    [Theory]
    [InlineData(OutputFormat.Png, typeof(PngFormat))]
    [InlineData(OutputFormat.Webp, typeof(WebpFormat))]
    [InlineData(OutputFormat.Jpg, typeof(JpegFormat))]
    public void Encode_writes_the_requested_format_at_the_image_size(OutputFormat format, Type expected)
    {
        var bytes = ImageEncoder.Encode(Gradient(), "prompt", format);

        var info = Image.Identify(bytes, out var detected);
        Assert.IsType(expected, detected);
        Assert.Equal((64, 48), (info.Width, info.Height));
    }

    [Fact]
    public void Png_keeps_the_parameters_chunk()
    {
        var bytes = ImageEncoder.Encode(Gradient(), "a lighthouse", OutputFormat.Png);

        Assert.Equal("a lighthouse", PngWriter.ReadParameters(bytes));
    }

    [Fact]
    public void Lossy_quality_changes_the_size()
    {
        var low = ImageEncoder.Encode(Gradient(), null, OutputFormat.Jpg, quality: 10);
        var high = ImageEncoder.Encode(Gradient(), null, OutputFormat.Jpg, quality: 95);

        Assert.True(low.Length < high.Length, $"{low.Length} < {high.Length}");
    }
}
