using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SkiaSharp;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Tests.Shared;

// Usage: ImageDecodeBench <imagesharp|ours|skia> <case>   (one case per process; prints one line)
//        ImageDecodeBench cases                             (lists the cases)
var cases = new Dictionary<string, Func<byte[]>>();
cases["png-1024"] = () => Save(1024, img => { var m = new MemoryStream(); img.SaveAsPng(m); return m.ToArray(); });
cases["jpeg-1024"] = () => Save(1024, img => { var m = new MemoryStream(); img.SaveAsJpeg(m, new JpegEncoder { Quality = 90 }); return m.ToArray(); });
cases["webp-1024"] = () => Save(1024, img => { var m = new MemoryStream(); img.SaveAsWebp(m, new WebpEncoder { FileFormat = WebpFileFormatType.Lossy }); return m.ToArray(); });
// The server's worst legitimate case: MaxImagePixels (2048²) of noise, which no codec compresses.
cases["png-2048-noise"] = () => Save(2048, img => { Noise(img); var m = new MemoryStream(); img.SaveAsPng(m); return m.ToArray(); });
cases["jpeg-2048-noise"] = () => Save(2048, img => { Noise(img); var m = new MemoryStream(); img.SaveAsJpeg(m, new JpegEncoder { Quality = 100 }); return m.ToArray(); });
cases["webp-2048-noise"] = () => Save(2048, img => { Noise(img); var m = new MemoryStream(); img.SaveAsWebp(m, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }); return m.ToArray(); });
cases["png-ztxt-64mb"] = () => CraftedPng.MetadataBomb("zTXt", 64L << 20);
cases["png-ztxt-512mb"] = () => CraftedPng.MetadataBomb("zTXt", 512L << 20);
cases["png-itxt-512mb"] = () => CraftedPng.MetadataBomb("iTXt", 512L << 20);
cases["png-iccp-512mb"] = () => CraftedPng.MetadataBomb("iCCP", 512L << 20);
cases["png-text-1000x16k"] = () => CraftedPng.ManyTextChunks(1000, 16 * 1024);
cases["jpeg-exif-300x64k"] = () => CraftedContainers.JpegWithSegments(cases["jpeg-1024"](), 0xE1, 300, 65_533);
cases["jpeg-icc-300x64k"] = () => CraftedContainers.JpegWithSegments(cases["jpeg-1024"](), 0xE2, 300, 65_533);
cases["webp-exif-19mb"] = () => CraftedContainers.WebpWithChunks(cases["webp-1024"](), "EXIF", 1, 19 << 20);
cases["webp-iccp-19mb"] = () => CraftedContainers.WebpWithChunks(cases["webp-1024"](), "ICCP", 1, 19 << 20);

if (args is ["tiny"])
{
    // The 8×8 JPEG and WebP that tests/Shared/HostileRequests embeds as base64 (it cannot reference ImageSharp).
    using var tiny = new Image<Rgb24>(8, 8, new Rgb24(90, 140, 200));
    using var jpeg = new MemoryStream();
    tiny.SaveAsJpeg(jpeg, new JpegEncoder { Quality = 75 });
    using var webp = new MemoryStream();
    tiny.SaveAsWebp(webp, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless });
    Console.WriteLine(Convert.ToBase64String(jpeg.ToArray()));
    Console.WriteLine(Convert.ToBase64String(webp.ToArray()));
    return 0;
}

if (args is ["file", var path])
{
    // Times our decoder on one file (e.g. a slow case HostileImageTests saved), five times.
    byte[] file = File.ReadAllBytes(path);
    for (int run = 0; run < 5; run++)
    {
        var watch = Stopwatch.StartNew();
        string result;
        try
        {
            result = Ours(file);
        }
        catch (Exception e)
        {
            result = $"refused: {e.Message[..Math.Min(120, e.Message.Length)]}";
        }
        Console.WriteLine($"{path}: {file.Length} B, {watch.Elapsed.TotalMilliseconds:F1} ms, {result}");
    }
    return 0;
}

if (args is ["cases"])
{
    Console.WriteLine(string.Join(' ', cases.Keys));
    return 0;
}

string decoder = args[0], name = args[1];
Func<byte[], string> decode = decoder switch
{
    "imagesharp" => ImageSharpAlone,
    "ours" => Ours,
    "skia" => Skia,
    _ => throw new ArgumentException(decoder),
};

// Warm up (JIT, native library load) on small normal images of all three formats, so the timing is the decode's.
foreach (var warm in new[] { "png-1024", "jpeg-1024", "webp-1024" })
{
    decode(cases[warm]());
}

byte[] bytes = cases[name]();
GC.Collect();
GC.WaitForPendingFinalizers();
// Writing 5 to clear_refs resets VmHWM (proc(5)), so the peak below is this case's, not the warm-up's.
File.WriteAllText("/proc/self/clear_refs", "5");
long baseline = ReadStatus("VmRSS:");
string outcome = "";
var best = TimeSpan.MaxValue;
for (int run = 0; run < (name.EndsWith("mb", StringComparison.Ordinal) && decoder == "imagesharp" ? 1 : 3); run++)
{
    var watch = Stopwatch.StartNew();
    try
    {
        outcome = decode(bytes);
    }
    catch (Exception e)
    {
        outcome = $"refused: {e.GetType().Name}: {e.Message[..Math.Min(80, e.Message.Length)]}";
    }

    best = watch.Elapsed < best ? watch.Elapsed : best;
}

Console.WriteLine($"{decoder,-10} {name,-20} {bytes.Length,10:N0} B  {best.TotalMilliseconds,9:F1} ms  peak +{Math.Max(0, ReadStatus("VmHWM:") - baseline) / 1024,6:N0} MB  {outcome}");
return 0;

static string ImageSharpAlone(byte[] bytes)
{
    using var image = Image.Load<Rgb24>(bytes);
    return $"{image.Width}x{image.Height}";
}

static string Ours(byte[] bytes)
{
    var image = ImageDecoder.Decode(bytes, "image", new ImageLimits());
    return $"{image.Width}x{image.Height}";
}

static string Skia(byte[] bytes)
{
    using var codec = SKCodec.Create(new MemoryStream(bytes)) ?? throw new InvalidDataException("SKCodec.Create returned null");
    var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
    using var bitmap = new SKBitmap(info);
    var result = codec.GetPixels(info, bitmap.GetPixels());
    return result == SKCodecResult.Success ? $"{info.Width}x{info.Height}" : $"refused: {result}";
}

static byte[] Save(int size, Func<Image<Rgb24>, byte[]> encode)
{
    using var image = new Image<Rgb24>(size, size);
    var random = new Random(1);
    image.ProcessPixelRows(rows =>
    {
        for (int y = 0; y < rows.Height; y++)
        {
            var row = rows.GetRowSpan(y);
            for (int x = 0; x < row.Length; x++)
            {
                // A smooth gradient with a little noise: compresses like a photo, not like a flat colour.
                row[x] = new Rgb24((byte)(x / 4 + random.Next(8)), (byte)(y / 4 + random.Next(8)), (byte)((x + y) / 8));
            }
        }
    });
    return encode(image);
}

static void Noise(Image<Rgb24> image)
{
    var random = new Random(2);
    image.ProcessPixelRows(rows =>
    {
        for (int y = 0; y < rows.Height; y++)
        {
            foreach (ref var pixel in rows.GetRowSpan(y))
            {
                pixel = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
            }
        }
    });
}

static long ReadStatus(string key)
{
    foreach (var line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith(key, StringComparison.Ordinal))
        {
            return long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    return 0;
}

