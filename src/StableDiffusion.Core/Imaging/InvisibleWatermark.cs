using System.Text;

namespace StableDiffusion.Core.Imaging;

/// <summary>
/// The <c>invisible-watermark</c> package's <c>dwtDct</c> method (0.2.0), bit-exact, as Stability's scripts apply it.
/// Images are RGB24, row-major, 3 bytes per pixel.
/// </summary>
/// <remarks>
/// What <c>imwatermark/maxDct.py</c> (EmbedMaxDct) actually does, quirks included:
/// <list type="bullet">
/// <item>cv2 BGR→YUV on the whole image; <c>for channel in range(2)</c> with scales [0, 36, 36] marks only U (channel 1).</item>
/// <item>pywt.dwt2(U[:rows//4*4, :cols//4*4], 'haar') in float64; no DCT is applied despite the name: the 4×4 blocks of
/// the approximation band are edited directly, in row order, bit = payload[block index mod length].</item>
/// <item>Per block: the first largest |value| among flattened positions 1..15 is set to ±(⌊|v|/36⌋ + 0.25 + 0.5·bit)·36.</item>
/// <item>pywt.idwt2((cA, (cV, cH, cD))): the horizontal and vertical detail bands go back swapped, which transposes every
/// 2×2 cell of the cropped U plane (marked or not).</item>
/// <item>The float64 result is assigned into the uint8 YUV array: truncation and wrap-around (<see cref="NumpyCast"/>).</item>
/// <item>cv2 YUV→BGR of the whole image, so pixels outside the crop also take the lossy integer round trip.</item>
/// </list>
/// The decoder repeats the transforms and votes per bit with (|v| mod 36) &gt; 18, a bit being 1 when mean·255 &gt; 127.
/// Every 2×2 Haar cell is independent, so the work is done cell by cell in 8×8-pixel tiles (one 4×4 block of cA)
/// without a full-plane buffer.
/// </remarks>
public sealed class InvisibleWatermark
{
    public const string DefaultPayload = "SDV2";

    /// <summary>
    /// Upstream refuses images whose area is below this squared (<c>if r*c &lt; 256*256: raise</c>); they are returned
    /// unmarked. Note it is the area, not each side: 1024×64 is marked upstream, so it is here too.
    /// </summary>
    public const int MinimumSize = 256;

    /// <summary>The <c>dwtDct</c> quantisation step for the U channel (EmbedMaxDct's default scales [0, 36, 36]).</summary>
    internal const double Scale = 36.0;

    /// <summary>Upper bound for <see cref="Decode"/>'s bit count, which sizes its buffers (it may come from a user).</summary>
    public const int MaxDecodeBits = 1 << 16;

    private const int Block = 4;

    private readonly byte[] _bits;

    public InvisibleWatermark(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
            throw new ArgumentException("The watermark payload must not be empty.", nameof(payload));

        // np.unpackbits: 8 bits per byte, most significant first.
        _bits = new byte[payload.Length * 8];
        for (int i = 0; i < _bits.Length; i++)
            _bits[i] = (byte)((payload[i >> 3] >> (7 - (i & 7))) & 1);
    }

    public static InvisibleWatermark FromText(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        return new InvisibleWatermark(Encoding.UTF8.GetBytes(text));
    }

    public int BitLength => _bits.Length;

    /// <summary>Marks the image in place; false (image untouched) when it is smaller than <see cref="MinimumSize"/>.</summary>
    public bool Embed(Span<byte> rgb, int width, int height)
    {
        CheckImage(rgb.Length, width, height);
        int cropWidth = width / 4 * 4, cropHeight = height / 4 * 4;
        // Upstream raises for a small area; an empty crop (a side under 4) would make pywt raise as well.
        if ((long)width * height < MinimumSize * MinimumSize || cropWidth == 0 || cropHeight == 0)
            return false;

        // Outside the crop only the YUV round trip happens.
        for (int y = 0; y < height; y++)
        {
            int xStart = y < cropHeight ? cropWidth : 0;
            for (int x = xStart; x < width; x++)
                RoundTrip(rgb.Slice((y * width + x) * 3, 3));
        }

        // cA is (cropHeight/2)×(cropWidth/2); its whole 4×4 blocks cover 8×8-pixel tiles.
        int blockRows = cropHeight / 2 / Block, blockColumns = cropWidth / 2 / Block;
        Span<double> aa = stackalloc double[Block * Block];
        Span<double> da = stackalloc double[Block * Block];
        Span<double> ad = stackalloc double[Block * Block];
        Span<double> dd = stackalloc double[Block * Block];
        int blockIndex = 0;
        for (int by = 0; by < blockRows; by++)
        {
            for (int bx = 0; bx < blockColumns; bx++, blockIndex++)
            {
                for (int i = 0; i < Block * Block; i++)
                {
                    int px = bx * 2 * Block + (i % Block) * 2, py = by * 2 * Block + (i / Block) * 2;
                    ForwardCell(rgb, width, px, py, out aa[i], out da[i], out ad[i], out dd[i]);
                }

                Quantise(aa, _bits[blockIndex % _bits.Length]);

                for (int i = 0; i < Block * Block; i++)
                {
                    int px = bx * 2 * Block + (i % Block) * 2, py = by * 2 * Block + (i / Block) * 2;
                    InverseCell(rgb, width, px, py, aa[i], da[i], ad[i], dd[i]);
                }
            }
        }

        // Cells of the crop beyond the last whole block (when cA's sides are not multiples of 4) are only transformed
        // there and back, which still applies the swapped-bands transpose and the uint8 cast.
        int tiledWidth = blockColumns * 2 * Block, tiledHeight = blockRows * 2 * Block;
        for (int py = 0; py < cropHeight; py += 2)
        {
            int xStart = py < tiledHeight ? tiledWidth : 0;
            for (int px = xStart; px < cropWidth; px += 2)
            {
                ForwardCell(rgb, width, px, py, out double a, out double h, out double v, out double d);
                InverseCell(rgb, width, px, py, a, h, v, d);
            }
        }

        return true;
    }

    /// <summary>Reads <paramref name="bitLength"/> bits back (MSB first) and packs them into bytes.</summary>
    /// <remarks>
    /// Returns ⌈bitLength/8⌉ bytes (np.packbits pads the last byte with zero bits). Unlike upstream this also reads
    /// images under 256×256; bits that got no block at all read as 0, as upstream's NaN mean would.
    /// </remarks>
    public static byte[] Decode(ReadOnlySpan<byte> rgb, int width, int height, int bitLength = 32)
    {
        CheckImage(rgb.Length, width, height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bitLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitLength, MaxDecodeBits);

        int cropWidth = width / 4 * 4, cropHeight = height / 4 * 4;
        int blockRows = cropHeight / 2 / Block, blockColumns = cropWidth / 2 / Block;
        // Votes cycle through the bits block by block, so no bit has more votes than this.
        var ones = new int[bitLength];
        var votes = new int[bitLength];
        Span<double> aa = stackalloc double[Block * Block];
        int blockIndex = 0;
        for (int by = 0; by < blockRows; by++)
        {
            for (int bx = 0; bx < blockColumns; bx++, blockIndex++)
            {
                for (int i = 0; i < Block * Block; i++)
                {
                    int px = bx * 2 * Block + (i % Block) * 2, py = by * 2 * Block + (i / Block) * 2;
                    aa[i] = HaarWavelet.Approximation(
                        PixelU(rgb, width, px, py), PixelU(rgb, width, px + 1, py),
                        PixelU(rgb, width, px, py + 1), PixelU(rgb, width, px + 1, py + 1));
                }

                // infer_dct_matrix: |v| mod 36 (C fmod, exact, like numpy's % for positive operands) above half a step.
                double value = Math.Abs(aa[LargestNonDc(aa)]);
                int bit = blockIndex % bitLength;
                votes[bit]++;
                if (value % Scale > 0.5 * Scale)
                    ones[bit]++;
            }
        }

        var bytes = new byte[(bitLength + 7) / 8];
        for (int bit = 0; bit < bitLength; bit++)
        {
            // np.array(scores).mean() * 255 > 127, with the mean rounded to float64 first as numpy does.
            double mean = votes[bit] == 0 ? double.NaN : (double)ones[bit] / votes[bit];
            if (mean * 255 > 127)
                bytes[bit >> 3] |= (byte)(0x80 >> (bit & 7));
        }

        return bytes;
    }

    /// <summary>diffuse_dct_matrix on one 4×4 block of cA (row-major).</summary>
    private static void Quantise(Span<double> block, byte bit)
    {
        int position = LargestNonDc(block);
        double value = block[position];
        // Upstream: (val // scale + 0.25 + 0.5 * bit) * scale, with the sign put back for negatives.
        double magnitude = (FloorDivide(Math.Abs(value)) + 0.25 + 0.5 * bit) * Scale;
        block[position] = value >= 0.0 ? magnitude : -1.0 * magnitude;
    }

    /// <summary>np.argmax(abs(block.flatten()[1:])) + 1: the first of equal maxima wins.</summary>
    private static int LargestNonDc(ReadOnlySpan<double> block)
    {
        int position = 1;
        double largest = Math.Abs(block[1]);
        for (int i = 2; i < block.Length; i++)
        {
            double magnitude = Math.Abs(block[i]);
            if (magnitude > largest)
            {
                largest = magnitude;
                position = i;
            }
        }

        return position;
    }

    /// <summary>
    /// numpy's float64 floor division by 36 for a non-negative operand (npy_divmod: (a - fmod(a, b)) / b, then floor).
    /// Unlike Math.Floor(a / 36) this never rounds up to the next integer when a is just below a multiple of 36.
    /// </summary>
    private static double FloorDivide(double magnitude) => Math.Floor((magnitude - magnitude % Scale) / Scale);

    private static double PixelU(ReadOnlySpan<byte> rgb, int width, int x, int y)
    {
        int offset = (y * width + x) * 3;
        int r = rgb[offset], g = rgb[offset + 1], b = rgb[offset + 2];
        return OpenCvYuv.U(b, OpenCvYuv.Luma(r, g, b));
    }

    private static void ForwardCell(ReadOnlySpan<byte> rgb, int width, int x, int y,
                                    out double aa, out double da, out double ad, out double dd) =>
        HaarWavelet.Forward(
            PixelU(rgb, width, x, y), PixelU(rgb, width, x + 1, y),
            PixelU(rgb, width, x, y + 1), PixelU(rgb, width, x + 1, y + 1),
            out aa, out da, out ad, out dd);

    /// <summary>
    /// maxDct.py passes <c>(ca1, (v1, h1, d1))</c> to idwt2 although dwt2 returned <c>(ca1, (h1, v1, d1))</c>:
    /// the vertical band lands in the horizontal slot and vice versa. Reproduced here on purpose.
    /// </summary>
    private static void InverseCell(Span<byte> rgb, int width, int x, int y, double aa, double da, double ad, double dd)
    {
        HaarWavelet.Inverse(aa, da: ad, ad: da, dd, out double u00, out double u01, out double u10, out double u11);
        WritePixel(rgb, width, x, y, NumpyCast.ToUInt8(u00));
        WritePixel(rgb, width, x + 1, y, NumpyCast.ToUInt8(u01));
        WritePixel(rgb, width, x, y + 1, NumpyCast.ToUInt8(u10));
        WritePixel(rgb, width, x + 1, y + 1, NumpyCast.ToUInt8(u11));
    }

    /// <summary>Replaces the pixel by YUV→BGR of its own Y and V with the new U.</summary>
    private static void WritePixel(Span<byte> rgb, int width, int x, int y, int u)
    {
        Span<byte> pixel = rgb.Slice((y * width + x) * 3, 3);
        int r = pixel[0], g = pixel[1], b = pixel[2];
        int luma = OpenCvYuv.Luma(r, g, b);
        OpenCvYuv.ToRgb(luma, u, OpenCvYuv.V(r, luma), out pixel[0], out pixel[1], out pixel[2]);
    }

    private static void RoundTrip(Span<byte> pixel)
    {
        int r = pixel[0], g = pixel[1], b = pixel[2];
        int luma = OpenCvYuv.Luma(r, g, b);
        OpenCvYuv.ToRgb(luma, OpenCvYuv.U(b, luma), OpenCvYuv.V(r, luma), out pixel[0], out pixel[1], out pixel[2]);
    }

    private static void CheckImage(int length, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if ((long)width * height * 3 != length)
            throw new ArgumentException($"Expected {(long)width * height * 3} bytes for a {width}×{height} RGB24 image, got {length}.");
    }
}
