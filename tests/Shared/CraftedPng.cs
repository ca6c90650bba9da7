using System.Buffers.Binary;

namespace StableDiffusion.Tests.Shared;

/// <summary>
/// Writes syntactically valid PNGs (signature, IHDR, one IDAT, IEND, correct CRCs) whose header can claim any size:
/// the hostile-image tests of Core and of the server build their decompression bombs with it. Linked into both test
/// projects (tests/Shared), written by hand because the point is a file no encoder would produce.
/// </summary>
public static class CraftedPng
{
    /// <summary>An empty zlib stream: a complete IDAT with no pixel data.</summary>
    public static readonly byte[] EmptyIdat = [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];

    public static byte[] Create(int width, int height, byte[] idat) => Create(width, height, idat, []);

    /// <summary>A PNG with <paramref name="extra"/> chunks between IHDR and IDAT (where text and profiles live).</summary>
    public static byte[] Create(int width, int height, byte[] idat, IEnumerable<(string Type, byte[] Data)> extra)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        WriteChunk(stream, "IHDR", ihdr);
        foreach (var (type, data) in extra)
        {
            WriteChunk(stream, type, data);
        }

        WriteChunk(stream, "IDAT", idat);
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    /// <summary>Rows of a grey RGB image, zlib-compressed: a real IDAT for <see cref="Create(int, int, byte[])"/>.</summary>
    public static byte[] GreyIdat(int width, int height, long trailingZeros = 0)
    {
        using var output = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            var row = new byte[1 + width * 3];
            row.AsSpan(1).Fill(128);
            for (int y = 0; y < height; y++)
            {
                zlib.Write(row);
            }

            WriteZeros(zlib, trailingZeros);
        }

        return output.ToArray();
    }

    /// <summary>A 64×64 grey PNG carrying one <paramref name="type"/> chunk (zTXt, iTXt or iCCP) whose compressed field
    /// inflates to <paramref name="inflatedBytes"/> — 512 MB fits in ~520 KB (deflate's ratio tops out near 1032:1).</summary>
    public static byte[] MetadataBomb(string type, long inflatedBytes)
    {
        using var body = new MemoryStream();
        // keyword / profile name, NUL, then per type: compression method (zTXt, iCCP) or
        // compression flag + method + empty language + empty translated keyword (iTXt).
        body.Write("Comment\0"u8);
        body.Write(type == "iTXt" ? [1, 0, 0, 0] : [0]);
        using (var zlib = new System.IO.Compression.ZLibStream(body, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
        {
            WriteZeros(zlib, inflatedBytes);
        }

        return Create(64, 64, GreyIdat(64, 64), [(type, body.ToArray())]);
    }

    /// <summary>A 64×64 grey PNG with <paramref name="count"/> copies of a tEXt chunk of <paramref name="size"/> bytes.</summary>
    public static byte[] ManyTextChunks(int count, int size)
    {
        var text = new byte[size];
        "Comment\0"u8.CopyTo(text);
        text.AsSpan(8).Fill((byte)'a');
        return Create(64, 64, GreyIdat(64, 64), Enumerable.Repeat(("tEXt", text), count));
    }

    private static void WriteZeros(Stream stream, long count)
    {
        var zeros = new byte[1 << 20];
        for (long left = count; left > 0; left -= zeros.Length)
        {
            stream.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
        }
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
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

    // PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), bitwise.
    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
