using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Tests.Imaging;

/// <summary>
/// Bit-exactness with upstream, not just round trips. The numbers come from reference/dwtdct_reference.py (a
/// dependency-free port), which was checked byte for byte against imwatermark/maxDct.py's EmbedMaxDct run on
/// numpy 1.24.2, PyWavelets 1.1.1 and OpenCV 4.6.0 (Debian 12, x86-64): 0 differing bytes for these images
/// (and for a uniform-noise image) — see reference/verify_with_numpy.py.
/// </summary>
public class InvisibleWatermarkReferenceTests
{
    [Fact]
    public void Embedding_matches_upstream_bytes_for_a_262x300_image()
    {
        // 262×300: a 2-pixel column outside the crop, and cA of 130×150 leaves cells outside whole 4×4 blocks.
        byte[] image = WatermarkTestImages.Reference(262, 300);

        InvisibleWatermark.FromText("SDV2").Embed(image, 262, 300);

        Assert.Equal(0x7CA8AC56u, WatermarkTestImages.Fnv1a(image));
        AssertPixel(image, 262, 0, 0, 12, 11, 243);
        AssertPixel(image, 262, 1, 0, 3, 5, 243);   // U of (1,0) and (0,1) trade places: the swapped detail bands
        AssertPixel(image, 262, 0, 1, 8, 6, 254);
        AssertPixel(image, 262, 40, 7, 251, 247, 17);
        AssertPixel(image, 262, 100, 100, 100, 201, 100);
        AssertPixel(image, 262, 200, 37, 212, 85, 157);
        AssertPixel(image, 262, 259, 2, 7, 4, 255);
        AssertPixel(image, 262, 261, 299, 254, 254, 1); // outside the crop: YUV round trip only
    }

    [Fact]
    public void Embedding_matches_upstream_bytes_for_a_256x256_image_and_a_3_byte_payload()
    {
        byte[] image = WatermarkTestImages.Reference(256, 256);

        InvisibleWatermark.FromText("Hi!").Embed(image, 256, 256);

        Assert.Equal(0x33FD5BADu, WatermarkTestImages.Fnv1a(image));
        Assert.Equal("Hi!"u8.ToArray(), InvisibleWatermark.Decode(image, 256, 256, 24));
    }

    [Fact]
    public void Embedding_matches_upstream_bytes_for_a_256x256_image_and_sdv2()
    {
        byte[] image = WatermarkTestImages.Reference(256, 256);

        InvisibleWatermark.FromText("SDV2").Embed(image, 256, 256);

        Assert.Equal(0x6CB48C54u, WatermarkTestImages.Fnv1a(image));
    }

    [Fact]
    public void Embedding_matches_upstream_bytes_for_flat_grey()
    {
        byte[] image = WatermarkTestImages.Flat(300, 260, 128);

        InvisibleWatermark.FromText("SDV2").Embed(image, 300, 260);

        Assert.Equal(0x27477A91u, WatermarkTestImages.Fnv1a(image));
    }

    [Fact]
    public void Decoding_the_pinned_image_reads_sdv2()
    {
        byte[] image = WatermarkTestImages.Reference(262, 300);
        InvisibleWatermark.FromText("SDV2").Embed(image, 262, 300);

        Assert.Equal("SDV2"u8.ToArray(), InvisibleWatermark.Decode(image, 262, 300));
    }

    private static void AssertPixel(byte[] rgb, int width, int x, int y, byte r, byte g, byte b)
    {
        int o = (y * width + x) * 3;
        Assert.Equal((r, g, b), (rgb[o], rgb[o + 1], rgb[o + 2]));
    }
}
