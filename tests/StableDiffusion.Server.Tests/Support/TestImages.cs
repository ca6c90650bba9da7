using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Tests.Shared;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>Input images for the image-task tests: real encodings and hostile ones.</summary>
public static class TestImages
{
    public static byte[] Png(int width, int height, byte grey = 128)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(grey, grey, grey));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>Left half black, right half white (a mask that repaints the right half).</summary>
    public static byte[] HalfWhitePng(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(0, 0, 0));
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                rows.GetRowSpan(y)[(width / 2)..].Fill(new Rgb24(255, 255, 255));
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>Random pixels: PNG cannot compress them, so the file is about 3 bytes per pixel.</summary>
    public static byte[] NoisePng(int width, int height)
    {
        var random = new Random(1);
        var pixels = new byte[width * height * 3];
        random.NextBytes(pixels);
        using var image = Image.LoadPixelData<Rgb24>(pixels, width, height);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    public static byte[] Gif(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        using var stream = new MemoryStream();
        image.SaveAsGif(stream);
        return stream.ToArray();
    }

    /// <summary>A complete, tiny PNG whose header claims <paramref name="width"/>×<paramref name="height"/> (a decompression bomb).</summary>
    public static byte[] BombPng(int width, int height) => CraftedPng.Create(width, height, CraftedPng.EmptyIdat);

    public static string DataUri(byte[] bytes, string mime = "image/png") => $"data:{mime};base64,{Convert.ToBase64String(bytes)}";

    public static (int Width, int Height) SizeOf(byte[] encoded)
    {
        var info = Image.Identify(encoded);
        return (info.Width, info.Height);
    }
}
