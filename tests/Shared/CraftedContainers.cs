using System.Buffers.Binary;

namespace StableDiffusion.Tests.Shared;

/// <summary>
/// Hostile JPEG and WebP files built from a valid encoding by splicing metadata into its container: huge EXIF/ICC/COM
/// segments, thousands of them, huge RIFF metadata chunks. Used by Core's and the server's hostile-image tests.
/// </summary>
public static class CraftedContainers
{
    /// <summary>Inserts <paramref name="count"/> JPEG segments with <paramref name="marker"/> (0xE1 EXIF, 0xE2 ICC,
    /// 0xFE COM …) of <paramref name="size"/> payload bytes each (at most 65,533) right after SOI.</summary>
    public static byte[] JpegWithSegments(byte[] jpeg, byte marker, int count, int size)
    {
        using var stream = new MemoryStream();
        stream.Write(jpeg.AsSpan(0, 2));
        var segment = new byte[4 + size];
        segment[0] = 0xFF;
        segment[1] = marker;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(size + 2));
        if (marker == 0xE1 && size >= 6)
        {
            "Exif\0\0"u8.CopyTo(segment.AsSpan(4));
        }
        else if (marker == 0xE2 && size >= 14)
        {
            "ICC_PROFILE\0"u8.CopyTo(segment.AsSpan(4));
            segment[16] = 1;
            segment[17] = 1;
        }

        for (int i = 0; i < count; i++)
        {
            stream.Write(segment);
        }

        stream.Write(jpeg.AsSpan(2));
        return stream.ToArray();
    }

    /// <summary>Appends <paramref name="count"/> RIFF chunks of <paramref name="type"/> (EXIF, ICCP, XMP …) of
    /// <paramref name="size"/> bytes to a still WebP, turning it into the extended format with the matching flag.</summary>
    public static byte[] WebpWithChunks(byte[] webp, string type, int count, int size)
    {
        // webp = RIFF size WEBP, then one VP8/VP8L chunk (ImageSharp writes the simple format).
        var bitstream = webp.AsSpan(12);
        string kind = System.Text.Encoding.ASCII.GetString(bitstream[..4]);
        var payload = bitstream[8..];
        int width, height;
        if (kind == "VP8L")
        {
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]);
            (width, height) = ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }
        else
        {
            (width, height) = (BinaryPrimitives.ReadUInt16LittleEndian(payload[6..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]) & 0x3FFF);
        }

        using var stream = new MemoryStream();
        stream.Write("RIFF\0\0\0\0WEBP"u8);
        var vp8x = new byte[10];
        vp8x[0] = type switch { "EXIF" => 0x08, "ICCP" => 0x20, "XMP " => 0x04, _ => 0 };
        WriteUInt24(vp8x.AsSpan(4), width - 1);
        WriteUInt24(vp8x.AsSpan(7), height - 1);
        WriteChunk(stream, "VP8X", vp8x);
        if (type == "ICCP")
        {
            // ICCP goes before the bitstream, EXIF and XMP after it (container spec, extended format).
            WriteChunks(stream, type, count, size);
        }

        stream.Write(bitstream);
        if (type != "ICCP")
        {
            WriteChunks(stream, type, count, size);
        }

        var result = stream.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), (uint)(result.Length - 8));
        return result;
    }

    private static void WriteChunks(Stream stream, string type, int count, int size)
    {
        var data = new byte[size];
        if (type == "EXIF" && size >= 8)
        {
            // A TIFF header whose first IFD offset points at itself: parsers that follow offsets must not loop.
            "II*\0"u8.CopyTo(data);
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), 8);
            if (size >= 10)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(8), 0xFFFF);
            }
        }

        for (int i = 0; i < count; i++)
        {
            WriteChunk(stream, type, data);
        }
    }

    private static void WriteChunk(Stream stream, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[8];
        System.Text.Encoding.ASCII.GetBytes(type, header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)data.Length);
        stream.Write(header);
        stream.Write(data);
        if ((data.Length & 1) != 0)
        {
            stream.WriteByte(0);
        }
    }

    private static void WriteUInt24(Span<byte> target, int value)
    {
        target[0] = (byte)value;
        target[1] = (byte)(value >> 8);
        target[2] = (byte)(value >> 16);
    }
}
