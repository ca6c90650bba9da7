using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;

namespace StableDiffusion.Core.Imaging;

/// <summary>
/// Turns untrusted image input (raw bytes or a <c>data:</c> URI) into an <see cref="RgbImage"/>, refusing anything
/// that is not a complete PNG, JPEG or WebP within the limits — before decoding, so a decompression bomb costs us a
/// header read, not gigabytes.
/// </summary>
/// <remarks>
/// Order of checks: byte size (413) → magic bytes (PNG/JPEG/WebP only; GIF, BMP, TIFF … named and refused) →
/// container completeness (PNG chunks up to IEND, JPEG end-of-image marker, WebP RIFF length) → header dimensions via
/// <c>Image.Identify</c> against the pixel limit → decode with an ImageSharp configuration that knows only those three
/// formats and whose allocator is capped, so even a lying header cannot make it allocate without bound.
/// The alpha channel is dropped (as PIL's <c>convert("RGB")</c> does); EXIF orientation is not applied (diffusers does
/// not apply it either).
/// </remarks>
public static class ImageDecoder
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // Only the three accepted formats are registered: ImageSharp cannot be talked into decoding anything else.
    private static readonly Configuration Formats = CreateConfiguration();

    /// <summary>Decodes raw image bytes.</summary>
    /// <param name="field">The request field, named in every error message.</param>
    public static RgbImage Decode(ReadOnlySpan<byte> bytes, string field, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        if (bytes.Length == 0)
        {
            throw new ImageInputException(field, "the image is empty.");
        }

        if (bytes.Length > limits.MaxBytes)
        {
            throw new ImageInputException(field, $"the image is {bytes.Length} bytes; the limit is {limits.MaxBytes} bytes.", 413);
        }

        var format = DetectFormat(bytes) ?? throw new ImageInputException(field, $"{DescribeUnsupported(bytes)}; accepted formats are PNG, JPEG and WebP.");
        CheckComplete(bytes, format, field);

        byte[] data = bytes.ToArray();
        IImageInfo? info;
        try
        {
            info = Image.Identify(Formats, data, out _);
        }
        catch (Exception ex) when (ex is ImageFormatException or InvalidImageContentException or NotSupportedException or ArgumentException)
        {
            throw new ImageInputException(field, $"the {Name(format)} header is corrupt ({ex.Message}).", inner: ex);
        }

        if (info is null)
        {
            throw new ImageInputException(field, $"the {Name(format)} header could not be read.");
        }

        CheckDimensions(info.Width, info.Height, limits, field);
        try
        {
            using var image = Image.Load<Rgb24>(Formats, data);
            if (image.Width != info.Width || image.Height != info.Height)
            {
                throw new ImageInputException(field, $"the {Name(format)} decodes to {image.Width}x{image.Height} but its header says {info.Width}x{info.Height}.");
            }

            var result = RgbImage.Create(image.Width, image.Height);
            image.CopyPixelDataTo(result.Pixels);
            return result;
        }
        catch (Exception ex) when (ex is ImageFormatException or InvalidImageContentException or InvalidMemoryOperationException
                                       or NotSupportedException or ArgumentException or IndexOutOfRangeException or EndOfStreamException)
        {
            throw new ImageInputException(field, $"the {Name(format)} data is truncated or corrupt ({ex.Message}).", inner: ex);
        }
    }

    /// <summary>Decodes a <c>data:[image/png|image/jpeg|image/webp][;base64],…</c> URI, or raw base64 when
    /// <paramref name="input"/> has no <c>data:</c> prefix (what AUTOMATIC1111 clients send).</summary>
    public static RgbImage DecodeDataUri(string input, string field, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        ReadOnlySpan<char> payload = input.AsSpan().Trim();
        if (payload.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            int comma = payload.IndexOf(',');
            if (comma < 0)
            {
                throw new ImageInputException(field, "the data URI has no ',' before its data.");
            }

            var header = payload[5..comma];
            if (!header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            {
                throw new ImageInputException(field, "the data URI must be base64-encoded (data:image/png;base64,…).");
            }

            var mediaType = header[..^7].Trim();
            if (mediaType.Length > 0 && !IsAcceptedMediaType(mediaType))
            {
                throw new ImageInputException(field, $"the data URI's media type '{mediaType}' is not accepted; use image/png, image/jpeg or image/webp.");
            }

            payload = payload[(comma + 1)..];
        }

        // Refuse by size before decoding: base64 needs 4 characters per 3 bytes.
        long maxChars = (limits.MaxBytes + 2) / 3 * 4;
        if (payload.Length > maxChars + payload.Length / 64 + 4)
        {
            throw new ImageInputException(field, $"the image is over the limit of {limits.MaxBytes} bytes.", 413);
        }

        var buffer = new byte[payload.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64Chars(payload, buffer, out int written))
        {
            throw new ImageInputException(field, "the data is not valid base64.");
        }

        return Decode(buffer.AsSpan(0, written), field, limits);
    }

    /// <summary>The format by its magic bytes; null for anything we do not accept.</summary>
    public static ImageFormatKind? DetectFormat(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith(PngSignature))
        {
            return ImageFormatKind.Png;
        }

        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            return ImageFormatKind.Jpeg;
        }

        if (bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
        {
            return ImageFormatKind.WebP;
        }

        return null;
    }

    private static void CheckDimensions(int width, int height, ImageLimits limits, string field)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ImageInputException(field, $"the image header says {width}x{height}.");
        }

        if (width > limits.MaxSide || height > limits.MaxSide || (long)width * height > limits.MaxPixels)
        {
            throw new ImageInputException(field,
                $"the image is {width}x{height} ({(long)width * height} pixels); the limit is {limits.MaxPixels} pixels and {limits.MaxSide} per side.");
        }
    }

    /// <summary>Refuses a container that ends early. ImageSharp fills the missing rows of a truncated PNG or JPEG with
    /// grey instead of failing, so completeness is checked on the container before decoding.</summary>
    private static void CheckComplete(ReadOnlySpan<byte> bytes, ImageFormatKind format, string field)
    {
        switch (format)
        {
            case ImageFormatKind.Png:
                int offset = PngSignature.Length;
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
                        throw new ImageInputException(field, $"the PNG is truncated (chunk '{System.Text.Encoding.ASCII.GetString(type)}' runs past the end of the file).");
                    }

                    if (type.SequenceEqual("IEND"u8))
                    {
                        return;
                    }

                    offset = (int)end;
                }

            case ImageFormatKind.Jpeg:
                // Every complete JPEG ends its entropy-coded data with the EOI marker FF D9 (trailing bytes after it
                // are tolerated, as browsers do).
                if (bytes[2..].IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) < 0)
                {
                    throw new ImageInputException(field, "the JPEG is truncated (no end-of-image marker).");
                }

                return;

            case ImageFormatKind.WebP:
                uint riffSize = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
                if (riffSize + 8L > bytes.Length)
                {
                    throw new ImageInputException(field, $"the WebP is truncated ({bytes.Length} bytes of the {riffSize + 8L} its header announces).");
                }

                // VP8X extended header, flags byte: bit 1 = animation. Every frame would be decoded at canvas size, so a
                // small file could still expand to gigabytes; we take still images only.
                if (bytes.Length >= 21 && bytes[12..16].SequenceEqual("VP8X"u8) && (bytes[20] & 0x02) != 0)
                {
                    throw new ImageInputException(field, "animated WebP images are not accepted.");
                }

                return;
        }
    }

    private static string DescribeUnsupported(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith("GIF8"u8))
        {
            return "GIF images are not accepted";
        }

        if (bytes.StartsWith("BM"u8))
        {
            return "BMP images are not accepted";
        }

        if (bytes.StartsWith("II*\0"u8) || bytes.StartsWith("MM\0*"u8))
        {
            return "TIFF images are not accepted";
        }

        if (bytes.StartsWith("<"u8) || bytes.StartsWith("\uFEFF<"u8))
        {
            return "SVG/XML is not accepted";
        }

        return "the data is not a PNG, JPEG or WebP image";
    }

    private static bool IsAcceptedMediaType(ReadOnlySpan<char> mediaType) =>
        mediaType.Equals("image/png", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("image/jpeg", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("image/jpg", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("image/webp", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase);

    private static string Name(ImageFormatKind format) => format switch
    {
        ImageFormatKind.Png => "PNG",
        ImageFormatKind.Jpeg => "JPEG",
        _ => "WebP",
    };

    private static Configuration CreateConfiguration()
    {
        var configuration = new Configuration(new PngConfigurationModule(), new JpegConfigurationModule(), new WebpConfigurationModule())
        {
            // Defence in depth behind the header check: no single buffer above 1 GB, whatever the file claims.
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = 1024 }),
        };
        return configuration;
    }
}
