using System.Buffers.Binary;

namespace StableDiffusion.Core.Imaging;

/// <summary>
/// The result of reading an untrusted PNG, JPEG or WebP container ourselves: its format, the dimensions its header
/// declares, and a copy of the file holding only what decoding the pixels needs.
/// </summary>
/// <remarks>
/// Why our own walk in front of ImageSharp: ImageSharp 2.1.x inflates PNG text chunks (zTXt, iTXt) without a cap —
/// a 522 KB PNG whose zTXt inflates to 512 MB took 20 s and 3.4 GB — and parses EXIF, ICC, XMP and IPTC profiles
/// from JPEG and WebP. Every one of those is metadata we never use, so instead of capping each parser we drop the
/// chunks before ImageSharp sees the bytes. The walk is one linear pass that reads only chunk headers (it never
/// inflates, never follows an offset inside a chunk), so its cost is O(input bytes) with a small constant, and it
/// bounds the number of chunks, segments and scans, which bounds the work the decoder does per input byte:
/// PNG keeps IHDR, PLTE, tRNS, IDAT and IEND; JPEG keeps the frame, tables and scans plus a short JFIF and Adobe
/// segment (colour transform), dropping APP1–APP13, APP15 and COM; WebP keeps VP8X (its metadata flags cleared),
/// ALPH and the one VP8 or VP8L bitstream, dropping ICCP, EXIF, XMP and unknown chunks.
/// Dimensions come from this walk, so the pixel limit is checked without ever running an ImageSharp identifier.
/// </remarks>
public sealed record ImageContainer(ImageFormatKind Format, int Width, int Height, byte[] Decodable)
{
    /// <summary>Most chunks (PNG, WebP) or marker segments (JPEG) in one file. libpng writes 8 KB IDAT chunks, so a
    /// 20 MB PNG has ~2,500; a file made of empty chunks to slow the walk down is refused.</summary>
    public const int MaxChunks = 65_536;

    /// <summary>Most metadata (ancillary) chunks or segments; real files have a handful.</summary>
    public const int MaxMetadataChunks = 1_024;

    /// <summary>Most scans in a progressive JPEG: each scan makes the decoder revisit the whole coefficient buffer, so
    /// a file of thousands of tiny scans costs CPU out of proportion to its size (libjpeg-turbo's fuzzers cap this at
    /// 500; encoders write about 10).</summary>
    public const int MaxJpegScans = 128;

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Reads the container of an image whose format <see cref="ImageDecoder.DetectFormat"/> recognised.</summary>
    /// <exception cref="ImageInputException">Truncated, malformed, over a structural limit, or animated.</exception>
    public static ImageContainer Read(ReadOnlySpan<byte> bytes, ImageFormatKind format, string field) => format switch
    {
        ImageFormatKind.Png => ReadPng(bytes, field),
        ImageFormatKind.Jpeg => ReadJpeg(bytes, field),
        _ => ReadWebP(bytes, field),
    };

    private static ImageContainer ReadPng(ReadOnlySpan<byte> bytes, string field)
    {
        using var output = new MemoryStream(bytes.Length);
        output.Write(PngSignature);
        int offset = PngSignature.Length, chunks = 0, metadata = 0, width = 0, height = 0;
        bool sawData = false;
        while (true)
        {
            if (offset + 8 > bytes.Length)
            {
                throw new ImageInputException(field, "the PNG is truncated (it ends before its IEND chunk).");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes[offset..]);
            var type = bytes.Slice(offset + 4, 4);
            long end = offset + 12L + length;
            if (length > int.MaxValue || end > bytes.Length)
            {
                throw new ImageInputException(field, $"the PNG is truncated (chunk '{Describe(type)}' runs past the end of the file).");
            }

            if (++chunks > MaxChunks)
            {
                throw new ImageInputException(field, $"the PNG has more than {MaxChunks} chunks.");
            }

            if (chunks == 1)
            {
                if (!type.SequenceEqual("IHDR"u8) || length != 13)
                {
                    throw new ImageInputException(field, "the PNG does not start with an IHDR chunk.");
                }

                width = ReadPositiveInt32(bytes[(offset + 8)..], field);
                height = ReadPositiveInt32(bytes[(offset + 12)..], field);
            }

            var chunk = bytes[offset..(int)end];
            if (type.SequenceEqual("IEND"u8))
            {
                if (!sawData)
                {
                    throw new ImageInputException(field, "the PNG has no IDAT chunk (no pixel data).");
                }

                output.Write(chunk);
                return new ImageContainer(ImageFormatKind.Png, width, height, output.ToArray());
            }

            if (type.SequenceEqual("IDAT"u8))
            {
                sawData = true;
                output.Write(chunk);
            }
            else if (type.SequenceEqual("IHDR"u8) || type.SequenceEqual("PLTE"u8) || type.SequenceEqual("tRNS"u8))
            {
                // tRNS is ancillary but carries the transparency an edit mask may be drawn with.
                output.Write(chunk);
            }
            else if ((type[0] & 0x20) == 0)
            {
                // Bit 5 of the first letter clear = critical: a decoder must not skip it (PNG §5.4).
                throw new ImageInputException(field, $"the PNG has an unknown critical chunk '{Describe(type)}'.");
            }
            else if (++metadata > MaxMetadataChunks)
            {
                throw new ImageInputException(field, $"the PNG has more than {MaxMetadataChunks} metadata chunks.");
            }

            offset = (int)end;
        }
    }

    private static ImageContainer ReadJpeg(ReadOnlySpan<byte> bytes, string field)
    {
        using var output = new MemoryStream(bytes.Length);
        output.Write([0xFF, 0xD8]);
        int offset = 2, segments = 0, metadata = 0, scans = 0, width = 0, height = 0;
        while (true)
        {
            // Markers may be preceded by any number of 0xFF fill bytes (T.81 B.1.1.2).
            while (offset < bytes.Length && bytes[offset] == 0xFF && offset + 1 < bytes.Length && bytes[offset + 1] == 0xFF)
            {
                offset++;
            }

            if (offset + 2 > bytes.Length)
            {
                throw new ImageInputException(field, "the JPEG is truncated (no end-of-image marker).");
            }

            if (bytes[offset] != 0xFF)
            {
                throw new ImageInputException(field, $"the JPEG is corrupt (expected a marker at byte {offset}).");
            }

            byte marker = bytes[offset + 1];
            if (++segments > MaxChunks)
            {
                throw new ImageInputException(field, $"the JPEG has more than {MaxChunks} segments.");
            }

            if (marker == 0xD9)
            {
                if (scans == 0)
                {
                    throw new ImageInputException(field, "the JPEG has no scan (no pixel data).");
                }

                output.Write([0xFF, 0xD9]);
                return new ImageContainer(ImageFormatKind.Jpeg, width, height, output.ToArray());
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                output.Write(bytes.Slice(offset, 2));
                offset += 2;
                continue;
            }

            if (marker is 0xD8 or 0x00)
            {
                throw new ImageInputException(field, $"the JPEG is corrupt (unexpected marker 0x{marker:X2} at byte {offset}).");
            }

            if (offset + 4 > bytes.Length)
            {
                throw new ImageInputException(field, "the JPEG is truncated (no end-of-image marker).");
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(bytes[(offset + 2)..]);
            int end = offset + 2 + length;
            if (length < 2 || end > bytes.Length)
            {
                throw new ImageInputException(field, "the JPEG is truncated (a segment runs past the end of the file).");
            }

            var segment = bytes[offset..end];
            bool isFrame = marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            if (isFrame)
            {
                if (width != 0)
                {
                    throw new ImageInputException(field, "the JPEG has more than one frame (hierarchical JPEG is not accepted).");
                }

                if (length < 8)
                {
                    throw new ImageInputException(field, "the JPEG frame header is corrupt.");
                }

                height = BinaryPrimitives.ReadUInt16BigEndian(segment[5..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(segment[7..]);
                if (width == 0 || height == 0)
                {
                    // A height of 0 defers it to a DNL marker after the first scan; no mainstream encoder does that.
                    throw new ImageInputException(field, $"the JPEG header says {width}x{height}.");
                }

                output.Write(segment);
            }
            else if (marker is >= 0xE0 and <= 0xEF || marker == 0xFE)
            {
                // APP0 (JFIF, 16 bytes without a thumbnail) and APP14 (Adobe: the colour transform, 14 bytes) change
                // how pixels decode; every other APPn (EXIF, ICC, XMP, IPTC, MPF …) and COM is metadata.
                if ((marker == 0xE0 || marker == 0xEE) && length <= 64)
                {
                    output.Write(segment);
                }
                else if (++metadata > MaxMetadataChunks)
                {
                    throw new ImageInputException(field, $"the JPEG has more than {MaxMetadataChunks} metadata segments.");
                }
            }
            else
            {
                output.Write(segment);
            }

            offset = end;
            if (marker == 0xDA)
            {
                if (width == 0)
                {
                    throw new ImageInputException(field, "the JPEG has a scan before its frame header.");
                }

                if (++scans > MaxJpegScans)
                {
                    throw new ImageInputException(field, $"the JPEG has more than {MaxJpegScans} scans.");
                }

                // Entropy-coded data runs to the next marker that is not a stuffed byte (FF 00) or a restart (FF Dn).
                int start = offset;
                while (true)
                {
                    int ff = bytes[offset..].IndexOf((byte)0xFF);
                    if (ff < 0 || offset + ff + 1 >= bytes.Length)
                    {
                        throw new ImageInputException(field, "the JPEG is truncated (no end-of-image marker).");
                    }

                    offset += ff;
                    byte next = bytes[offset + 1];
                    if (next == 0x00 || next is >= 0xD0 and <= 0xD7 || next == 0xFF)
                    {
                        offset += next == 0xFF ? 1 : 2;
                        continue;
                    }

                    break;
                }

                output.Write(bytes[start..offset]);
            }
        }
    }

    private static ImageContainer ReadWebP(ReadOnlySpan<byte> bytes, string field)
    {
        uint riffSize = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        if (riffSize + 8L > bytes.Length)
        {
            throw new ImageInputException(field, $"the WebP is truncated ({bytes.Length} bytes of the {riffSize + 8L} its header announces).");
        }

        // Bytes after the RIFF size are not part of the image (tolerated, as browsers do).
        var riff = bytes[..(int)(riffSize + 8)];
        using var output = new MemoryStream(riff.Length);
        output.Write(riff[..12]);
        int offset = 12, chunks = 0, metadata = 0, width = 0, height = 0;
        bool extended = false, sawBitstream = false, sawAlpha = false;
        while (offset < riff.Length)
        {
            if (offset + 8 > riff.Length)
            {
                throw new ImageInputException(field, "the WebP is truncated (a chunk header runs past the end of the file).");
            }

            var type = riff.Slice(offset, 4);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(riff[(offset + 4)..]);
            long end = offset + 8L + size + (size & 1);
            if (offset + 8L + size > riff.Length)
            {
                throw new ImageInputException(field, $"the WebP is truncated (chunk '{Describe(type)}' runs past the end of the file).");
            }

            end = Math.Min(end, riff.Length);
            if (++chunks > MaxChunks)
            {
                throw new ImageInputException(field, $"the WebP has more than {MaxChunks} chunks.");
            }

            var chunk = riff[offset..(int)end];
            var payload = riff.Slice(offset + 8, (int)size);
            if (type.SequenceEqual("VP8X"u8))
            {
                if (chunks != 1 || size < 10)
                {
                    throw new ImageInputException(field, "the WebP's VP8X header is misplaced or corrupt.");
                }

                // Flags: bit 1 animation, bit 2 XMP, bit 3 EXIF, bit 4 alpha, bit 5 ICC (WebP container spec).
                if ((payload[0] & 0x02) != 0)
                {
                    throw new ImageInputException(field, "animated WebP images are not accepted.");
                }

                extended = true;
                width = 1 + (payload[4] | payload[5] << 8 | payload[6] << 16);
                height = 1 + (payload[7] | payload[8] << 8 | payload[9] << 16);
                var copy = chunk.ToArray();
                copy[8] &= 0x10;
                output.Write(copy);
            }
            else if (type.SequenceEqual("VP8 "u8) || type.SequenceEqual("VP8L"u8))
            {
                if (sawBitstream)
                {
                    throw new ImageInputException(field, "the WebP has more than one image bitstream.");
                }

                sawBitstream = true;
                var (w, h) = type[3] == (byte)'L' ? LosslessSize(payload, field) : LossySize(payload, field);
                if (extended && (w != width || h != height))
                {
                    throw new ImageInputException(field, $"the WebP's bitstream is {w}x{h} but its canvas is {width}x{height}.");
                }

                (width, height) = (w, h);
                output.Write(chunk);
            }
            else if (type.SequenceEqual("ALPH"u8) && extended && !sawBitstream && !sawAlpha)
            {
                sawAlpha = true;
                output.Write(chunk);
            }
            else if (type.SequenceEqual("ANIM"u8) || type.SequenceEqual("ANMF"u8))
            {
                throw new ImageInputException(field, "animated WebP images are not accepted.");
            }
            else if (++metadata > MaxMetadataChunks)
            {
                throw new ImageInputException(field, $"the WebP has more than {MaxMetadataChunks} metadata chunks.");
            }

            offset = (int)end;
        }

        if (!sawBitstream)
        {
            throw new ImageInputException(field, "the WebP has no VP8 or VP8L bitstream (no pixel data).");
        }

        var result = output.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), (uint)(result.Length - 8));
        return new ImageContainer(ImageFormatKind.WebP, width, height, result);
    }

    // VP8 key frame: 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height (RFC 6386 §9.1).
    private static (int Width, int Height) LossySize(ReadOnlySpan<byte> payload, string field)
    {
        if (payload.Length < 10 || payload[3] != 0x9D || payload[4] != 0x01 || payload[5] != 0x2A || (payload[0] & 1) != 0)
        {
            throw new ImageInputException(field, "the WebP's VP8 header is corrupt.");
        }

        return (BinaryPrimitives.ReadUInt16LittleEndian(payload[6..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]) & 0x3FFF);
    }

    // VP8L: signature 0x2F, then 14 bits width − 1 and 14 bits height − 1, little-endian bit order (WebP lossless §3).
    private static (int Width, int Height) LosslessSize(ReadOnlySpan<byte> payload, string field)
    {
        if (payload.Length < 5 || payload[0] != 0x2F)
        {
            throw new ImageInputException(field, "the WebP's VP8L header is corrupt.");
        }

        uint bits = BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]);
        return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
    }

    private static int ReadPositiveInt32(ReadOnlySpan<byte> bytes, string field)
    {
        uint value = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        if (value is 0 or > int.MaxValue)
        {
            throw new ImageInputException(field, $"the PNG header has a width or height of {value}.");
        }

        return (int)value;
    }

    private static string Describe(ReadOnlySpan<byte> type)
    {
        Span<char> name = stackalloc char[type.Length];
        for (int i = 0; i < type.Length; i++)
        {
            name[i] = type[i] is >= 0x20 and < 0x7F ? (char)type[i] : '?';
        }

        return new string(name);
    }
}
