using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Tests.Imaging;

/// <summary>Expected doubles printed (repr) by PyWavelets 1.1.1 pywt.dwt2 / pywt.idwt2 with 'haar' on uint8 cells.</summary>
public class HaarWaveletTests
{
    [Fact]
    public void Forward_rounds_like_pywt_dwt2()
    {
        // pywt.dwt2([[8, 36], [210, 242]], 'haar') → cA 248.00000000000003, cH -204.00000000000003, cV -30.00000000000003, cD 2.0
        HaarWavelet.Forward(8, 36, 210, 242, out double aa, out double da, out double ad, out double dd);

        Assert.Equal(248.00000000000003, aa);
        Assert.Equal(-204.00000000000003, da);
        Assert.Equal(-30.00000000000003, ad);
        Assert.Equal(2.0, dd);
        Assert.Equal(aa, HaarWavelet.Approximation(8, 36, 210, 242));
    }

    [Fact]
    public void Inverse_with_swapped_detail_bands_rounds_like_pywt_idwt2()
    {
        // pywt.idwt2((cA, (cV, cH, cD)), 'haar') as maxDct.py calls it: the cell comes back transposed and 8 as
        // 7.999999999999984, which numpy's uint8 cast truncates to 7.
        HaarWavelet.Forward(8, 36, 210, 242, out double aa, out double da, out double ad, out double dd);

        HaarWavelet.Inverse(aa, da: ad, ad: da, dd, out double x00, out double x01, out double x10, out double x11);

        Assert.Equal(7.999999999999984, x00);
        Assert.Equal(210.00000000000006, x01);
        Assert.Equal(36.000000000000014, x10);
        Assert.Equal(242.0000000000001, x11);
        Assert.Equal(7, NumpyCast.ToUInt8(x00));
    }

    [Fact]
    public void Inverse_in_dwt2_order_restores_the_cell()
    {
        // pywt.idwt2((cA, (cH, cV, cD))) of [[69, 211], [65, 104]] → [[68.99999999999999, ...]] in the swapped order;
        // in the proper order pywt gives the cell back within rounding.
        HaarWavelet.Forward(69, 211, 65, 104, out double aa, out double da, out double ad, out double dd);

        HaarWavelet.Inverse(aa, da, ad, dd, out double x00, out double x01, out double x10, out double x11);
        HaarWavelet.Inverse(aa, ad, da, dd, out double s00, out _, out _, out _);

        Assert.Equal(69, x00, 1e-9);
        Assert.Equal(211, x01, 1e-9);
        Assert.Equal(65, x10, 1e-9);
        Assert.Equal(104, x11, 1e-9);
        Assert.Equal(68.99999999999999, s00);
    }
}
