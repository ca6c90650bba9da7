using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Tests.Imaging;

/// <summary>The PNG writer (zlib-ng, Up filter) must decode to the exact pixels and keep the parameters chunk.</summary>
public sealed class PngWriterTests
{
    private static RgbImage Noise(int width, int height, int seed)
    {
        var image = RgbImage.Create(width, height);
        new Random(seed).NextBytes(image.Pixels);
        return image;
    }

    private static RgbImage Gradient(int width, int height)
    {
        var image = RgbImage.Create(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 3;
                (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]) = ((byte)x, (byte)y, (byte)(x + y));
            }
        }
        return image;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 5)]
    [InlineData(512, 512)]
    public void Noise_decodes_to_the_same_pixels(int width, int height)
    {
        var image = Noise(width, height, seed: width + height);

        Assert.Equal(image.Pixels, Decode(PngWriter.Encode(image, "p")));
    }

    [Fact]
    public void A_gradient_decodes_to_the_same_pixels_and_compresses()
    {
        var image = Gradient(256, 200);

        byte[] png = PngWriter.Encode(image, null);

        Assert.Equal(image.Pixels, Decode(png));
        Assert.True(png.Length < image.Pixels.Length / 4, $"{png.Length} bytes for {image.Pixels.Length} raw");
    }

    [Fact]
    public void Latin1_parameters_are_a_plain_tEXt_chunk()
    {
        byte[] png = PngWriter.Encode(Gradient(8, 8), "café, Steps: 20");

        Assert.Equal("café, Steps: 20", PngWriter.ReadParameters(png));
        Assert.Contains("tEXtparameters\0caf\u00e9", Encoding.Latin1.GetString(png), StringComparison.Ordinal);
    }

    [Fact]
    public void Other_parameters_are_an_utf8_iTXt_chunk()
    {
        byte[] png = PngWriter.Encode(Gradient(8, 8), "灯台 🌊, Steps: 20");

        Assert.Equal("灯台 🌊, Steps: 20", PngWriter.ReadParameters(png));
        Assert.Contains("iTXtparameters", Encoding.Latin1.GetString(png), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_parameters_there_is_no_text_chunk()
    {
        byte[] png = PngWriter.Encode(Gradient(8, 8), null);

        Assert.Null(PngWriter.ReadParameters(png));
        Assert.DoesNotContain("tEXt", Encoding.Latin1.GetString(png), StringComparison.Ordinal);
    }

    private static byte[] Decode(byte[] png)
    {
        using var decoded = Image.Load<Rgb24>(png);
        var pixels = new byte[decoded.Width * decoded.Height * 3];
        decoded.CopyPixelDataTo(pixels);
        return pixels;
    }
}
