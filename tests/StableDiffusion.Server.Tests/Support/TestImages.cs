using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

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
    public static byte[] BombPng(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        Chunk(stream, "IHDR", ihdr);
        Chunk(stream, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]); // an empty zlib stream
        Chunk(stream, "IEND", []);
        return stream.ToArray();
    }

    public static string DataUri(byte[] bytes, string mime = "image/png") => $"data:{mime};base64,{Convert.ToBase64String(bytes)}";

    public static (int Width, int Height) SizeOf(byte[] encoded)
    {
        var info = Image.Identify(encoded);
        return (info.Width, info.Height);
    }

    private static void Chunk(Stream stream, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        stream.Write(header);
        stream.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32([.. header.AsSpan(4).ToArray(), .. data]));
        stream.Write(crc);
    }

    // PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320).
    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return ~crc;
    }
}
