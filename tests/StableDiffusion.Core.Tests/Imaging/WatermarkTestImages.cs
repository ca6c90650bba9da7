namespace StableDiffusion.Core.Tests.Imaging;

/// <summary>Deterministic RGB24 images for the watermark tests.</summary>
internal static class WatermarkTestImages
{
    /// <summary>
    /// Mirror of <c>test_image</c> in reference/dwtdct_reference.py (same LCG, same regions), so that the pinned
    /// numbers computed there apply: gradients, ±15 texture, saturated blue and yellow squares (U near 239 and 17).
    /// </summary>
    public static byte[] Reference(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        long seed = 12345;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF;
                int n = (int)((seed >> 16) & 15);
                int region = ((x >> 5) + (y >> 5)) % 4;
                (int r, int g, int b) = region switch
                {
                    0 => (n, n, 255 - n),
                    1 => (255 - n, 255 - n, n),
                    _ => ((x + n) & 255, (y * 2 + n) & 255, ((x + y) / 2 + 3 * n) & 255),
                };
                int o = (y * width + x) * 3;
                rgb[o] = (byte)r;
                rgb[o + 1] = (byte)g;
                rgb[o + 2] = (byte)b;
            }
        }

        return rgb;
    }

    /// <summary>
    /// Smooth colour gradients with a soft diagonal shape, ±4 per-pixel luminance grain and a colour texture that is
    /// constant over 2×2 cells (chroma detail at the scale an SD decoder produces it), all from a seeded generator.
    /// </summary>
    /// <remarks>
    /// The scheme itself is fragile on some content, bit-exactly as upstream: on smooth chroma the largest cA coefficient
    /// of a block is often lowered below its neighbour and the decoder reads the wrong one, and per-pixel chroma noise
    /// costs PSNR through the transposed 2×2 cells. (With ±6 independent noise per channel instead of this texture,
    /// upstream itself reads 'SD\x7f2' at 37.8 dB from the 512×512 image.)
    /// </remarks>
    public static byte[] PhotoLike(int width, int height, int seed = 1234, int chroma = 6)
    {
        var random = new Random(seed);
        var cellTexture = new int[(width + 1) / 2 * ((height + 1) / 2)];
        for (int i = 0; i < cellTexture.Length; i++)
            cellTexture[i] = random.Next(-chroma, chroma + 1);

        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double fx = (double)x / width, fy = (double)y / height;
                double shape = 40 * Math.Sin(6 * fx + 4 * fy) * Math.Cos(5 * fy - 2 * fx);
                int grain = random.Next(-4, 5);
                int texture = cellTexture[y / 2 * ((width + 1) / 2) + x / 2];
                int o = (y * width + x) * 3;
                rgb[o] = Clamp(60 + 150 * fx + shape + grain - texture / 2);
                rgb[o + 1] = Clamp(90 + 100 * fy - 0.5 * shape + grain);
                rgb[o + 2] = Clamp(170 - 120 * fx * fy + 0.3 * shape + grain + texture);
            }
        }

        return rgb;
    }

    public static byte[] Flat(int width, int height, byte value)
    {
        var rgb = new byte[width * height * 3];
        Array.Fill(rgb, value);
        return rgb;
    }

    /// <summary>PSNR over all three channels, 8-bit peak.</summary>
    public static double Psnr(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            sum += d * d;
        }

        double mse = sum / a.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>32-bit FNV-1a, the checksum printed by reference/dwtdct_reference.py.</summary>
    public static uint Fnv1a(ReadOnlySpan<byte> data)
    {
        uint hash = 0x811C9DC5;
        foreach (byte b in data)
            hash = unchecked((hash ^ b) * 0x01000193);
        return hash;
    }

    private static byte Clamp(double v) => (byte)Math.Clamp((int)Math.Round(v), 0, 255);
}
