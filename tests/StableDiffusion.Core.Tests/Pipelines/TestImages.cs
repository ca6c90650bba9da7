using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Pipelines;

/// <summary>Inputs for the image-conditioned task tests.</summary>
internal static class TestImages
{
    /// <summary>A smooth colour gradient (deterministic, no file needed).</summary>
    public static RgbImage Gradient(int width, int height)
    {
        var image = RgbImage.Create(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int p = (y * width + x) * 3;
                image.Pixels[p] = (byte)(x * 255 / Math.Max(1, width - 1));
                image.Pixels[p + 1] = (byte)(y * 255 / Math.Max(1, height - 1));
                image.Pixels[p + 2] = 128;
            }
        }

        return image;
    }

    public static RgbImage Solid(int width, int height, byte value)
    {
        var image = RgbImage.Create(width, height);
        Array.Fill(image.Pixels, value);
        return image;
    }

    public static StableDiffusionPipeline Load(string preset, ModelLoadOptions? options = null) =>
        StableDiffusionPipeline.Load(SyntheticModelCache.Get(preset), (options ?? new ModelLoadOptions()) with { ExecutionProvider = "cpu" });

    /// <summary>The bar for "the same image" across batch layouts and devices: within 1 level on at least
    /// 99.9 % of the decoded values (float arithmetic in another order may round differently).</summary>
    public static void AssertWithinOneLevel(GeneratedImage expected, GeneratedImage actual)
    {
        var a = Pixels(expected);
        var b = Pixels(actual);
        Assert.Equal(a.Length, b.Length);
        int off = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = Math.Abs(a[i] - b[i]);
            max = Math.Max(max, d);
            off += d > 1 ? 1 : 0;
        }

        Assert.True(off <= a.Length / 1000, $"{off} of {a.Length} values differ by more than 1 level (max {max})");
    }

    /// <summary>The decoded RGB pixels of a result PNG (PNG bytes also carry the seed in their parameters text).</summary>
    public static byte[] Pixels(GeneratedImage image)
    {
        using var decoded = Image.Load<Rgb24>(image.Bytes);
        var rgb = new byte[decoded.Width * decoded.Height * 3];
        decoded.CopyPixelDataTo(rgb);
        return rgb;
    }
}
