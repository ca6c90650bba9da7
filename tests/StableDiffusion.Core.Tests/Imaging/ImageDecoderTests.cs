using StableDiffusion.Tests.Shared;
using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Tests.Imaging;

public sealed class ImageDecoderTests
{
    [Fact]
    public void Valid_png_is_decoded_pixel_for_pixel()
    {
        byte[] png = Encode(new PngEncoder(), 24, 16);

        var image = ImageDecoder.Decode(png, "image");

        Assert.Equal((24, 16), (image.Width, image.Height));
        // Pattern(x, y) = (x·10, y·10, 200): lossless formats come back exactly.
        Assert.Equal([50, 30, 200], image.Pixels.AsSpan((3 * 24 + 5) * 3, 3).ToArray());
    }

    [Fact]
    public void Valid_jpeg_is_decoded()
    {
        var image = ImageDecoder.Decode(Encode(new JpegEncoder { Quality = 90 }, 32, 24), "image");

        Assert.Equal((32, 24), (image.Width, image.Height));
    }

    [Fact]
    public void Valid_webp_is_decoded()
    {
        var image = ImageDecoder.Decode(Encode(new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }, 20, 12), "image");

        Assert.Equal((20, 12), (image.Width, image.Height));
        Assert.Equal([50, 30, 200], image.Pixels.AsSpan((3 * 20 + 5) * 3, 3).ToArray());
    }

    [Fact]
    public void Png_data_uri_is_decoded()
    {
        string uri = "data:image/png;base64," + Convert.ToBase64String(Encode(new PngEncoder(), 8, 8));

        var image = ImageDecoder.DecodeDataUri(uri, "image");

        Assert.Equal((8, 8), (image.Width, image.Height));
    }

    [Fact]
    public void Png_header_claiming_100000_squared_pixels_is_refused_before_decoding()
    {
        // A 100000×100000 RGB PNG would need 30 GB decoded; the file is a few dozen bytes. The header alone must refuse it.
        byte[] bomb = CraftedPng.Create(100_000, 100_000, idat: [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);

        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode(bomb, "image"));

        Assert.Equal("image", ex.Field);
        Assert.Equal(400, ex.StatusHint);
        Assert.Contains("100000x100000", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("image: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_png_is_refused()
    {
        byte[] png = Encode(new PngEncoder(), 64, 64);

        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode(png.AsSpan(0, png.Length / 2), "mask"));

        Assert.Equal("mask", ex.Field);
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Jpeg_with_garbage_after_soi_is_refused()
    {
        var garbage = new byte[600];
        new Random(1).NextBytes(garbage);
        garbage[0] = 0xFF;
        garbage[1] = 0xD8;
        garbage[2] = 0xFF;
        garbage[^2] = 0xFF;
        garbage[^1] = 0xD9;

        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode(garbage, "image"));

        Assert.Equal(400, ex.StatusHint);
        Assert.Contains("JPEG", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_jpeg_is_refused()
    {
        byte[] jpeg = Encode(new JpegEncoder(), 64, 64);

        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode(jpeg.AsSpan(0, jpeg.Length - 40), "image"));

        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gif_is_refused_by_name()
    {
        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode(Encode(new GifEncoder(), 8, 8), "image"));

        Assert.Contains("GIF images are not accepted", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bmp_is_refused_by_name()
    {
        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode(Encode(new BmpEncoder(), 8, 8), "image"));

        Assert.Contains("BMP images are not accepted", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Animated_webp_is_refused_from_its_header()
    {
        // RIFF/WEBP with a VP8X chunk whose flags byte has the animation bit (0x02) set.
        var webp = new byte[30];
        "RIFF"u8.CopyTo(webp);
        BinaryPrimitives.WriteUInt32LittleEndian(webp.AsSpan(4), (uint)(webp.Length - 8));
        "WEBPVP8X"u8.CopyTo(webp.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(webp.AsSpan(16), 10);
        webp[20] = 0x02;

        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode(webp, "image"));

        Assert.Contains("animated WebP", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Payload_over_the_byte_limit_is_413()
    {
        var limits = new ImageLimits { MaxBytes = 1000 };
        byte[] png = Encode(new PngEncoder(), 64, 64);
        Array.Resize(ref png, 1001);

        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode(png, "image", limits));

        Assert.Equal(413, ex.StatusHint);
    }

    [Fact]
    public void Data_uri_over_the_byte_limit_is_413_without_decoding_it()
    {
        var limits = new ImageLimits { MaxBytes = 1000 };
        string uri = "data:image/png;base64," + new string('A', 4000);

        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.DecodeDataUri(uri, "image", limits));

        Assert.Equal(413, ex.StatusHint);
    }

    [Theory]
    [InlineData("data:image/png;base64,!!!not base64!!!", "not valid base64")]
    [InlineData("data:image/png;base64", "no ','")]
    [InlineData("data:image/png,iVBORw0KGgo=", "base64-encoded")]
    [InlineData("data:text/html;base64,PGh0bWw+", "media type 'text/html'")]
    [InlineData("data:image/png;base64,", "empty")]
    public void Bad_data_uris_are_refused_with_a_clear_message(string uri, string expected)
    {
        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.DecodeDataUri(uri, "image"));

        Assert.Equal(400, ex.StatusHint);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_are_refused()
    {
        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode("hello, world"u8, "image"));

        Assert.Contains("not a PNG, JPEG or WebP", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pixel_limit_applies_to_real_images()
    {
        byte[] png = Encode(new PngEncoder(), 64, 64);

        var ex = Assert.Throws<ImageInputException>(() => ImageDecoder.Decode(png, "image", new ImageLimits { MaxPixels = 64 * 63 }));

        Assert.Contains("64x64", ex.Message, StringComparison.Ordinal);
    }

    private static byte[] Encode(SixLabors.ImageSharp.Formats.IImageEncoder encoder, int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image[x, y] = new Rgb24((byte)(x * 10), (byte)(y * 10), 200);
            }
        }

        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}
