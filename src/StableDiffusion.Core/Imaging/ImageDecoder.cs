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
/// our own walk of the container (<see cref="ImageContainer"/>: complete up to IEND / EOI / the RIFF length, chunk,
/// segment and scan counts bounded, metadata dropped, dimensions read from the header) → pixel limit → decode with
/// that one format's ImageSharp decoder, metadata ignored, in a configuration that knows only those three formats and
/// whose allocator is capped, so even a lying header cannot make it allocate without bound.
/// Why ImageSharp behind our checks rather than SkiaSharp 3.119 (libpng, libjpeg-turbo, libwebp) for untrusted
/// uploads — measured with tests/bench/ImageDecodeBench (2 shared cores, warm, one case per process; README, "Hostile
/// input"): on metadata bombs the walk answers in 0.1–0.4 ms with no extra memory where ImageSharp alone took 11 s and
/// 300 MB (64 MB zTXt) or 8 s and 135 MB (19 MB of JPEG EXIF), and SkiaSharp 2–300 ms; so both are bounded per input
/// byte. SkiaSharp decodes legitimate large images 2–5× faster (2048² noise: PNG 0.12 vs 0.62 s, JPEG 0.73 vs 1.45 s,
/// WebP 0.19 vs 0.30 s) with less memory (16–23 vs 34–74 MB), but that is under a second per upload against a
/// generation that takes many; it would add ~10 MB of native code per platform, a second decoder to keep patched, and
/// different JPEG pixels (another IDCT), which changes every img2img result from a JPEG. Revisit if uploads dominate.
/// ImageSharp's own failures on corrupt data (NullReference, IndexOutOfRange found by fuzzing) are caught as 400s.
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
        var container = Identify(bytes, field, limits);
        try
        {
            using var image = Load<Rgb24>(container);
            var result = RgbImage.Create(image.Width, image.Height);
            image.CopyPixelDataTo(result.Pixels);
            return result;
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException))
        {
            // Any failure inside the decoder is the input's: fuzzing ImageSharp 2.1.13 with mutated JPEGs raises
            // NullReferenceException and IndexOutOfRangeException from its internals as well as its own format
            // exceptions (HostileImageTests.Random_mutations_…). The input passed every check of ours, so it is a
            // corrupt image (400), not a server fault.
            throw new ImageInputException(field, $"the {Name(container.Format)} data is truncated or corrupt ({ex.GetType().Name}: {ex.Message}).", inner: ex);
        }
    }

    /// <summary>
    /// Everything short of decoding the pixels, in one pass over the bytes: size limit, format (PNG/JPEG/WebP by magic
    /// bytes, nothing else is ever tried), container completeness and structure, header dimensions against the pixel
    /// limit. The result holds a metadata-free copy of the file that <see cref="Load{TPixel}"/> decodes.
    /// </summary>
    /// <exception cref="ImageInputException">Anything that makes the image unusable, naming <paramref name="field"/>.</exception>
    public static ImageContainer Identify(ReadOnlySpan<byte> bytes, string field, ImageLimits? limits = null)
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
        var container = ImageContainer.Read(bytes, format, field);
        CheckDimensions(container.Width, container.Height, limits, field);
        return container;
    }

    /// <summary>Decodes what <see cref="Identify"/> accepted, with that format's decoder only and metadata ignored.
    /// The caller disposes the image; ImageSharp's exceptions for corrupt data propagate.</summary>
    public static Image<TPixel> Load<TPixel>(ImageContainer container)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        IImageDecoder decoder = container.Format switch
        {
            ImageFormatKind.Png => new PngDecoder { IgnoreMetadata = true },
            ImageFormatKind.Jpeg => new JpegDecoder { IgnoreMetadata = true },
            _ => new WebpDecoder { IgnoreMetadata = true },
        };
        using var stream = new MemoryStream(container.Decodable, writable: false);
        var image = Image.Load<TPixel>(Formats, stream, decoder);
        if (image.Width != container.Width || image.Height != container.Height)
        {
            string message = $"the {Name(container.Format)} decodes to {image.Width}x{image.Height} but its header says {container.Width}x{container.Height}.";
            image.Dispose();
            throw new InvalidImageContentException(message);
        }

        return image;
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
