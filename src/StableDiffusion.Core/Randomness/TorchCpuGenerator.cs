namespace StableDiffusion.Core.Randomness;

/// <summary>Which of torch's CPU <c>normal_</c> kernels a <see cref="TorchCpuGenerator"/> reproduces for tensors of 16
/// elements or more (smaller ones always take the scalar double path).</summary>
public enum TorchNormalKernel
{
    /// <summary><c>normal_fill_AVX2</c>: what torch runs on x86-64 CPUs with AVX2 (nearly all; also AVX-512 ones, where
    /// normal_ is deliberately not dispatched to AVX-512).</summary>
    Avx2,

    /// <summary>The portable <c>normal_fill</c>: torch without AVX2 (ARM, Apple silicon, <c>ATEN_CPU_CAPABILITY=default</c>).</summary>
    Scalar,
}

/// <summary><c>torch.Generator("cpu").manual_seed(seed)</c> followed by <c>torch.randn(shape, generator=g)</c> in float32,
/// bit for bit (what diffusers scripts and A1111's "CPU" noise source draw).</summary>
/// <remarks>
/// As in aten (CPUGeneratorImpl, DistributionsHelper.h, TransformationHelper.h, native/cpu/DistributionTemplates.h):
/// <list type="bullet">
/// <item>manual_seed keeps the low 32 bits of the 64-bit seed for mt19937's init_genrand, so seeds 0 … 2⁶⁴−1 are all
/// accepted and s and s + 2³² draw the same numbers (as in torch).</item>
/// <item>Fewer than 16 elements: each element is <c>normal_distribution&lt;double&gt;</c> — u1, u2 from 53-bit doubles
/// (two 32-bit draws, the first one high), r = √(−2 ln(1 − u2)), θ = 2π·u1, returns r·cos θ and caches r·sin θ for the
/// next scalar draw. The cache lives in the generator, so it carries over from one small draw to the next.</item>
/// <item>16 elements or more: all elements first get a 24-bit float uniform, then each block of 16 becomes 8 Box–Muller
/// pairs (j, j + 8) in float; when the size is not a multiple of 16 the last 16 elements are drawn again and
/// transformed again (they overlap the previous block). This path neither reads nor writes the scalar cache.</item>
/// </list>
/// torch 2.x computes ln(1 − u2) as log1p(−u2); 1 − u2 is exact for a 53-bit u2, so both are the correctly rounded
/// value except where libm's log and log1p differ in the last bit.
/// </remarks>
public sealed class TorchCpuGenerator : INoiseGenerator
{
    private const float TwoPiFloat = (float)(2.0 * Math.PI);
    private readonly Mt19937 _engine;
    private readonly TorchNormalKernel _kernel;
    private double _cachedNormal;
    private bool _hasCachedNormal;

    public TorchCpuGenerator(ulong seed, TorchNormalKernel kernel = TorchNormalKernel.Avx2)
    {
        _engine = new Mt19937(unchecked((uint)seed));
        _kernel = kernel;
    }

    public string Source => _kernel == TorchNormalKernel.Avx2 ? RandomSource.Cpu : RandomSource.CpuScalar;

    public void Fill(Span<float> destination)
    {
        if (destination.Length < 16)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = (float)NextDoubleNormal();
            }

            return;
        }

        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = NextFloatUniform();
        }

        for (var i = 0; i + 16 <= destination.Length; i += 16)
        {
            Transform16(destination.Slice(i, 16));
        }

        if (destination.Length % 16 != 0)
        {
            var tail = destination[^16..];
            for (var i = 0; i < 16; i++)
            {
                tail[i] = NextFloatUniform();
            }

            Transform16(tail);
        }
    }

    /// <summary><c>uniform_real_distribution&lt;float&gt;(0, 1)</c>: the low 24 bits of one draw, times 2⁻²⁴.</summary>
    private float NextFloatUniform() => (_engine.Next() & 0xFFFFFFu) * (1.0f / (1 << 24));

    /// <summary><c>uniform_real_distribution&lt;double&gt;(0, 1)</c>: random64() = (first draw &lt;&lt; 32) | second, low 53 bits.</summary>
    private double NextDoubleUniform()
    {
        ulong high = _engine.Next();
        ulong low = _engine.Next();
        return (((high << 32) | low) & ((1UL << 53) - 1)) * (1.0 / (1UL << 53));
    }

    private double NextDoubleNormal()
    {
        if (_hasCachedNormal)
        {
            _hasCachedNormal = false;
            return _cachedNormal;
        }

        var u1 = NextDoubleUniform();
        var u2 = NextDoubleUniform();
        var r = Math.Sqrt(-2.0 * Math.Log(1.0 - u2));
        var theta = 2.0 * Math.PI * u1;
        _cachedNormal = r * Math.Sin(theta);
        _hasCachedNormal = true;
        return r * Math.Cos(theta);
    }

    private void Transform16(Span<float> data)
    {
        for (var j = 0; j < 8; j++)
        {
            var u1 = 1f - data[j];
            var u2 = data[j + 8];
            if (_kernel == TorchNormalKernel.Avx2)
            {
                // normal_fill_16_AVX2: float sqrt(−2·log256(u1)), θ = float(2π)·u2, sincos256; fmadd(n, std=1, mean=0) = n.
                var radius = MathF.Sqrt(-2f * CephesFloat.Log(u1, fused: true));
                CephesFloat.SinCos(TwoPiFloat * u2, fused: true, out var sin, out var cos);
                data[j] = radius * cos;
                data[j + 8] = radius * sin;
            }
            else
            {
                // normal_fill_16<float>: logf/cosf/sinf, θ computed in double (2.0f * pi<double> * u2) then stored as float.
                var radius = MathF.Sqrt(-2f * MathF.Log(u1));
                var theta = (float)(2.0 * Math.PI * u2);
                data[j] = radius * MathF.Cos(theta);
                data[j + 8] = radius * MathF.Sin(theta);
            }
        }
    }
}
