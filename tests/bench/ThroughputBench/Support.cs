using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SkiaSharp;
using StableDiffusion.Core.Imaging;

namespace ThroughputBench;

internal static class PngEncoders
{
    /// <summary>Core's PngWriter before this change: ImageSharp 2.1's encoder at level 6 with its adaptive filter.</summary>
    private static readonly PngEncoder Old = Settings(PngCompressionLevel.DefaultCompression, null);

    public static IEnumerable<(string, Func<RgbImage, byte[]>)> All()
    {
        yield return ("before: ImageSharp level 6, adaptive filter", image => ImageSharpOld(image, "p"));
        yield return ("after: PngWriter (zlib-ng Z_RLE, Up filter)", image => PngWriter.Encode(image, "p"));
        var level1Sub = Settings(PngCompressionLevel.Level1, PngFilterMethod.Sub);
        yield return ("ImageSharp level 1, Sub filter", image => ImageSharp(image, level1Sub));
        var level2Paeth = Settings(PngCompressionLevel.Level2, PngFilterMethod.Paeth);
        yield return ("ImageSharp level 2, Paeth filter", image => ImageSharp(image, level2Paeth));
        yield return ("SkiaSharp libpng zlib 2, Up filter", image => Skia(image, new SKPngEncoderOptions(SKPngEncoderFilterFlags.Up, 2)));
        yield return ("SkiaSharp libpng zlib 6, all filters", image => Skia(image, new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 6)));
    }

    public static byte[] ImageSharpOld(RgbImage image, string parameters) => ImageSharp(image, Old, parameters);

    private static PngEncoder Settings(PngCompressionLevel level, PngFilterMethod? filter) => new()
    {
        ColorType = PngColorType.Rgb,
        BitDepth = PngBitDepth.Bit8,
        CompressionLevel = level,
        FilterMethod = filter,
        TextCompressionThreshold = int.MaxValue,
    };

    private static byte[] ImageSharp(RgbImage image, PngEncoder encoder, string parameters = "p")
    {
        using var img = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        img.Metadata.GetPngMetadata().TextData.Add(new PngTextData(PngWriter.ParametersKeyword, parameters, "", ""));
        using var stream = new MemoryStream();
        img.SaveAsPng(stream, encoder);
        return stream.ToArray();
    }

    /// <summary>Skia has no RGB888 colour type: the RGBA copy is part of its cost (and it writes no text chunk).</summary>
    private static byte[] Skia(RgbImage image, SKPngEncoderOptions options)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = bitmap.GetPixelSpan();
        for (int i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4)
        {
            (rgba[j], rgba[j + 1], rgba[j + 2], rgba[j + 3]) = (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2], 255);
        }
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(options) ?? throw new InvalidOperationException("Skia could not encode");
        return data.ToArray();
    }
}

internal static class TestImages
{
    public static RgbImage Noise(int size)
    {
        var image = RgbImage.Create(size, size);
        new Random(1).NextBytes(image.Pixels);
        return image;
    }

    /// <summary>Smooth low-frequency shapes plus ±2 of sensor-like grain: compresses like a photo, not like a gradient.</summary>
    public static RgbImage PhotoLike(int size)
    {
        var image = RgbImage.Create(size, size);
        var random = new Random(2);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    double v = 128 + 60 * Math.Sin(x / (40.0 + 10 * c)) * Math.Cos(y / 55.0) + 40 * Math.Sin((x + y) / 90.0 + c) + random.Next(-2, 3);
                    image.Pixels[(y * size + x) * 3 + c] = (byte)Math.Clamp(v, 0, 255);
                }
            }
        }
        return image;
    }
}

internal static class RequestMix
{
    private static readonly string[] Negatives = ["blurry, low quality", "lowres, bad anatomy, watermark", "text"];

    public static IEnumerable<(string Prompt, string Negative)> Create(int count, int seed)
    {
        var random = new Random(seed);
        // Zipf-like popularity over 20 prompts: weight 1/(rank+1).
        double[] weights = [.. Enumerable.Range(0, 20).Select(r => 1.0 / (r + 1))];
        double total = weights.Sum();
        for (int i = 0; i < count; i++)
        {
            double pick = random.NextDouble() * total;
            int rank = 0;
            while (rank < 19 && (pick -= weights[rank]) > 0)
            {
                rank++;
            }
            string negative = random.NextDouble() < 0.85 ? "" : Negatives[random.Next(Negatives.Length)];
            yield return ($"prompt number {rank}: a scenic view, detailed", negative);
        }
    }
}

internal static class Measure
{
    public static (double Min, double Median, int Value) Runs(int runs, Func<int> body)
    {
        body();
        body();
        var times = new List<double>();
        int value = 0;
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            value = body();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return (times.Min(), Median(times), value);
    }

    public static double Once(Action body)
    {
        long start = Stopwatch.GetTimestamp();
        body();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
