namespace StableDiffusion.Core.Randomness;

/// <summary>The float log and sin/cos that torch's AVX2 <c>normal_fill</c> uses (<c>log256_ps</c> and <c>sincos256_ps</c> of
/// aten/src/ATen/native/cpu/avx_mathfun.h, Cephes polynomials after Julien Pommier's sse_mathfun), one lane at a time.</summary>
/// <remarks>
/// Bit-exact reproduction needs the same float operations in the same order, and the constants are C double literals
/// converted to float, hence the <c>(float)</c> casts of double literals rather than float literals (a decimal rounded
/// straight to float can differ from the double-then-float rounding the C compiler does).
/// GCC builds these AVX2 files with -mfma, and its C++ default -ffp-contract=fast fuses a multiply whose only use is an
/// add or subtract into one FMA (its widening_mul pass, in statement order: in <c>a·b + c·d</c> the first product is
/// fused, the second rounded). torch's Linux x86-64 wheels and Debian's python3-torch are built that way, so
/// <paramref name="fused"/> = true reproduces them; false is the unfused evaluation (clang's default, e.g. macOS x86 wheels).
/// </remarks>
internal static class CephesFloat
{
    private const float SqrtHalf = (float)0.707106781186547524;
    private const float LogP0 = (float)7.0376836292E-2;
    private const float LogP1 = (float)-1.1514610310E-1;
    private const float LogP2 = (float)1.1676998740E-1;
    private const float LogP3 = (float)-1.2420140846E-1;
    private const float LogP4 = (float)1.4249322787E-1;
    private const float LogP5 = (float)-1.6668057665E-1;
    private const float LogP6 = (float)2.0000714765E-1;
    private const float LogP7 = (float)-2.4999993993E-1;
    private const float LogP8 = (float)3.3333331174E-1;
    private const float LogQ1 = (float)-2.12194440e-4;
    private const float LogQ2 = (float)0.693359375;

    private const float MinusDp1 = (float)-0.78515625;
    private const float MinusDp2 = (float)-2.4187564849853515625e-4;
    private const float MinusDp3 = (float)-3.77489497744594108e-8;
    private const float SinP0 = (float)-1.9515295891E-4;
    private const float SinP1 = (float)8.3321608736E-3;
    private const float SinP2 = (float)-1.6666654611E-1;
    private const float CosP0 = (float)2.443315711809948E-005;
    private const float CosP1 = (float)-1.388731625493765E-003;
    private const float CosP2 = (float)4.166664568298827E-002;
    private const float FourOverPi = (float)1.27323954473516;

    /// <summary><c>log256_ps</c> for one lane: NaN for x ≤ 0, denormals cut to the smallest normal.</summary>
    public static float Log(float x, bool fused)
    {
        var invalid = x <= 0f;
        x = MathF.Max(x, BitConverter.UInt32BitsToSingle(0x00800000u));
        var bits = BitConverter.SingleToUInt32Bits(x);
        var exponent = (int)(bits >> 23) - 0x7F;

        // Keep the mantissa, exponent of 0.5: x in [0.5, 1).
        x = BitConverter.UInt32BitsToSingle((bits & ~0x7F800000u) | BitConverter.SingleToUInt32Bits(0.5f));
        var e = (float)exponent;
        e += 1f;

        var below = x < SqrtHalf;
        var tmp = below ? x : 0f;
        x -= 1f;
        e -= below ? 1f : 0f;
        x += tmp;

        var z = x * x;
        var y = LogP0;
        y = MulAdd(y, x, LogP1, fused);
        y = MulAdd(y, x, LogP2, fused);
        y = MulAdd(y, x, LogP3, fused);
        y = MulAdd(y, x, LogP4, fused);
        y = MulAdd(y, x, LogP5, fused);
        y = MulAdd(y, x, LogP6, fused);
        y = MulAdd(y, x, LogP7, fused);
        y = MulAdd(y, x, LogP8, fused);
        y *= x;
        y = MulAdd(y, z, e * LogQ1, fused);
        y -= z * 0.5f; // exact product: fused or not, one rounding
        x += y;
        x = MulAdd(e, LogQ2, x, fused);
        return invalid ? float.NaN : x;
    }

    /// <summary><c>sincos256_ps</c> for one lane (accurate for |x| &lt; 8192; normal_fill only passes [0, 2π)).</summary>
    public static void SinCos(float x, bool fused, out float sin, out float cos)
    {
        var signSin = BitConverter.SingleToUInt32Bits(x) & 0x80000000u;
        x = MathF.Abs(x);

        // Octant j = ((int)(x·4/π) + 1) & ~1, truncating like _mm256_cvttps_epi32.
        var j = (int)(x * FourOverPi);
        j = (j + 1) & ~1;
        var y = (float)j;
        var swapSignSin = (uint)(j & 4) << 29;
        var sinPolynomial = (j & 2) == 0;
        var signCos = (uint)(~(j - 2) & 4) << 29;
        signSin ^= swapSignSin;

        // Extended precision modular arithmetic: x = ((x − y·DP1) − y·DP2) − y·DP3.
        x = MulAdd(y, MinusDp1, x, fused);
        x = MulAdd(y, MinusDp2, x, fused);
        x = MulAdd(y, MinusDp3, x, fused);

        var z = x * x;
        var c = MulAdd(CosP0, z, CosP1, fused);
        c = MulAdd(c, z, CosP2, fused);
        c *= z;
        c = MulAdd(c, z, -(z * 0.5f), fused);
        c += 1f;

        var s = MulAdd(SinP0, z, SinP1, fused);
        s = MulAdd(s, z, SinP2, fused);
        s *= z;
        s = MulAdd(s, x, x, fused);

        sin = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(sinPolynomial ? s : c) ^ signSin);
        cos = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(sinPolynomial ? c : s) ^ signCos);
    }

    private static float MulAdd(float a, float b, float c, bool fused) => fused ? MathF.FusedMultiplyAdd(a, b, c) : a * b + c;
}
