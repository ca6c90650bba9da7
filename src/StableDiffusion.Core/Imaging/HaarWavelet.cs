namespace StableDiffusion.Core.Imaging;

/// <summary>
/// One-level 2-D Haar transform of a 2×2 cell, with PyWavelets' float64 rounding reproduced operation by operation.
/// </summary>
/// <remarks>
/// pywt.dwt2 runs <c>dwt_axis</c> over axis 0 (rows pairs) then axis 1, and for an even-length signal the 'symmetric'
/// mode never reaches the boundary code, so each output is <c>filter[0]·x[2i+1] + filter[1]·x[2i]</c> with every product
/// rounded (convolution.template.c, <c>downsampling_convolution</c>; no FMA in the x86-64 wheels).
/// pywt.idwt2 runs <c>idwt_axis</c> over axis 1 then axis 0, each output being <c>rec_lo·a + rec_hi·d</c> accumulated in that
/// order into a zeroed buffer (<c>upsampling_convolution_valid_sf</c>). Haar filters (pywt): dec_lo = [s, s],
/// dec_hi = [-s, s], rec_lo = [s, s], rec_hi = [s, -s] with s = 0.7071067811865476.
/// Band names follow pywt.dwtn keys: the first letter is axis 0 (rows), the second axis 1 (columns);
/// dwt2 returns (aa, (da, ad, dd)) as (cA, (cH, cV, cD)).
/// .NET never contracts a*b+c into an FMA, so these expressions round exactly like the C loops.
/// </remarks>
internal static class HaarWavelet
{
    /// <summary>1/√2 as pywt stores it (the nearest double).</summary>
    public const double S = 0.7071067811865476;

    /// <summary>Forward transform of the cell [[x00, x01], [x10, x11]] (row, column).</summary>
    public static void Forward(double x00, double x01, double x10, double x11,
                               out double aa, out double da, out double ad, out double dd)
    {
        // Axis 0: column 0 and column 1, pairing row 0 with row 1.
        double lo0 = S * x10 + S * x00, hi0 = -S * x10 + S * x00;
        double lo1 = S * x11 + S * x01, hi1 = -S * x11 + S * x01;
        // Axis 1: pairing column 0 with column 1.
        aa = S * lo1 + S * lo0;
        ad = -S * lo1 + S * lo0;
        da = S * hi1 + S * hi0;
        dd = -S * hi1 + S * hi0;
    }

    /// <summary>Approximation coefficient only (what the decoder needs), rounded exactly as in <see cref="Forward"/>.</summary>
    public static double Approximation(double x00, double x01, double x10, double x11)
    {
        double lo0 = S * x10 + S * x00;
        double lo1 = S * x11 + S * x01;
        return S * lo1 + S * lo0;
    }

    /// <summary>pywt.idwt2((aa, (da, ad, dd))) of one cell: the arguments are the bands in the slots idwt2 reads them from.</summary>
    public static void Inverse(double aa, double da, double ad, double dd,
                               out double x00, out double x01, out double x10, out double x11)
    {
        // Axis 1 first: 'a' = idwt(aa, ad), 'd' = idwt(da, dd).
        double a0 = S * aa + S * ad, a1 = S * aa + -S * ad;
        double d0 = S * da + S * dd, d1 = S * da + -S * dd;
        // Then axis 0: rows 0 and 1 from 'a' and 'd'.
        x00 = S * a0 + S * d0;
        x10 = S * a0 + -S * d0;
        x01 = S * a1 + S * d1;
        x11 = S * a1 + -S * d1;
    }
}
