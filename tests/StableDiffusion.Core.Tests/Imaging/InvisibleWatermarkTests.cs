using System.Text;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Tests.Imaging;

public class InvisibleWatermarkTests
{
    private static readonly byte[] Sdv2 = "SDV2"u8.ToArray();

    [Theory]
    [InlineData(512, 512)]
    [InlineData(768, 768)]
    [InlineData(640, 384)]
    [InlineData(383, 641)] // odd sides: a crop remainder outside the marked area and cA sides not multiples of 4
    public void Photo_like_image_decodes_to_the_default_payload(int width, int height)
    {
        byte[] image = WatermarkTestImages.PhotoLike(width, height);

        bool marked = InvisibleWatermark.FromText(InvisibleWatermark.DefaultPayload).Embed(image, width, height);

        Assert.True(marked);
        Assert.Equal(Sdv2, InvisibleWatermark.Decode(image, width, height));
    }

    [Theory]
    [InlineData(512, 512)]
    [InlineData(768, 768)]
    [InlineData(640, 384)]
    public void Flat_mid_grey_image_decodes_to_the_default_payload(int width, int height)
    {
        byte[] image = WatermarkTestImages.Flat(width, height, 128);

        InvisibleWatermark.FromText("SDV2").Embed(image, width, height);

        Assert.Equal(Sdv2, InvisibleWatermark.Decode(image, width, height));
    }

    [Fact]
    public void Custom_payload_of_any_length_round_trips()
    {
        const string text = "Ünïcode-7"; // 11 UTF-8 bytes, 88 bits
        byte[] payload = Encoding.UTF8.GetBytes(text);
        byte[] image = WatermarkTestImages.PhotoLike(768, 768, seed: 99);
        var watermark = InvisibleWatermark.FromText(text);

        watermark.Embed(image, 768, 768);

        Assert.Equal(88, watermark.BitLength);
        Assert.Equal(payload, InvisibleWatermark.Decode(image, 768, 768, watermark.BitLength));
    }

    [Fact]
    public void Unmarked_image_does_not_read_as_the_payload()
    {
        byte[] image = WatermarkTestImages.PhotoLike(512, 512);

        Assert.NotEqual(Sdv2, InvisibleWatermark.Decode(image, 512, 512));
    }

    [Theory]
    [InlineData(512, 512)]
    [InlineData(768, 768)]
    public void Watermarked_image_stays_within_38_dB_psnr_of_the_original(int width, int height)
    {
        byte[] original = WatermarkTestImages.PhotoLike(width, height);
        byte[] image = (byte[])original.Clone();

        InvisibleWatermark.FromText("SDV2").Embed(image, width, height);

        Assert.InRange(WatermarkTestImages.Psnr(original, image), 38.0, double.PositiveInfinity);
    }

    [Theory]
    [InlineData(255, 255)]
    [InlineData(300, 200)] // 60000 pixels: upstream's test is the area, r*c < 256*256
    [InlineData(8, 8)]
    public void Images_under_256_squared_are_returned_unmarked(int width, int height)
    {
        byte[] original = WatermarkTestImages.PhotoLike(width, height);
        byte[] image = (byte[])original.Clone();

        bool marked = InvisibleWatermark.FromText("SDV2").Embed(image, width, height);

        Assert.False(marked);
        Assert.Equal(original, image);
    }

    [Fact]
    public void Area_of_exactly_256_squared_is_marked_even_when_a_side_is_short()
    {
        // Upstream refuses r*c < 65536 only, so 1024×64 is marked there too.
        byte[] image = WatermarkTestImages.Flat(1024, 64, 128);

        Assert.True(InvisibleWatermark.FromText("SDV2").Embed(image, 1024, 64));
        Assert.Equal(Sdv2, InvisibleWatermark.Decode(image, 1024, 64));
    }

    [Fact]
    public void Payload_bits_are_msb_first_like_np_unpackbits()
    {
        // Payload 0x80 → bits 1,0,0,0,0,0,0,0. On flat grey (U = 128, cA = 256) block 0 quantises cA[0][1] to
        // (7 + 0.25 + 0.5)·36 = 279 → U 139 in the cell at pixels (2..3, 0..1); block 1 gets bit 0 → 261 → U 130.
        // RGB of (Y 128, U 139 / 130, V 128) from cv2 COLOR_YUV2BGR; values also from reference/dwtdct_reference.py.
        byte[] image = WatermarkTestImages.Flat(256, 256, 128);
        var watermark = new InvisibleWatermark([0x80]);

        watermark.Embed(image, 256, 256);

        Assert.Equal(8, watermark.BitLength);
        Assert.Equal(new byte[] { 128, 124, 150 }, image.AsSpan(2 * 3, 3).ToArray());
        Assert.Equal(new byte[] { 128, 127, 132 }, image.AsSpan(10 * 3, 3).ToArray());
        Assert.Equal(new byte[] { 128, 128, 128 }, image.AsSpan(0, 3).ToArray());
        Assert.Equal(new byte[] { 0x80 }, InvisibleWatermark.Decode(image, 256, 256, 8));
    }

    [Fact]
    public void Empty_payload_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new InvisibleWatermark([]));
        Assert.Throws<ArgumentException>(() => InvisibleWatermark.FromText(""));
    }

    [Fact]
    public void Decoding_more_bits_than_the_limit_is_rejected()
    {
        byte[] image = WatermarkTestImages.Flat(256, 256, 128);

        Assert.Throws<ArgumentOutOfRangeException>(() => InvisibleWatermark.Decode(image, 256, 256, InvisibleWatermark.MaxDecodeBits + 1));
    }

    [Fact]
    public void Buffer_of_the_wrong_size_is_rejected()
    {
        var image = new byte[100 * 100 * 3 - 1];

        Assert.Throws<ArgumentException>(() => InvisibleWatermark.FromText("SDV2").Embed(image, 100, 100));
    }
}
