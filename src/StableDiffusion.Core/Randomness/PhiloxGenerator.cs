namespace StableDiffusion.Core.Randomness;

/// <summary>AUTOMATIC1111's "NV" noise source (modules/rng_philox.py): Philox 4×32-10 and one Box–Muller output per
/// element, imitating <c>torch.randn(..., device="cuda")</c> so a seed gives GPU users' latents on any machine.</summary>
/// <remarks>
/// Element i of the k-th draw (k counts <see cref="Fill"/> calls from 0) runs Philox on counter (k, 0, i, 0) with key
/// (seed low 32 bits, seed high 32 bits); of the four outputs, x = out₀ and y = out₁ give u = x·2⁻³² + 2⁻³³ and
/// v = y·2π·2⁻³² + π·2⁻³², and the element is √(−2 ln u)·sin v. The constants are A1111's float32 ones
/// (2.3283064e-10 and 2.3283064e-10·6.2831855 rounded to float) and, as numpy promotes uint32 × float32 to float64,
/// the arithmetic is double until the final cast to float.
/// </remarks>
public sealed class PhiloxGenerator : INoiseGenerator
{
    private const uint MultiplierA = 0xD2511F53u;
    private const uint MultiplierB = 0xCD9E8D57u;
    private const uint WeylA = 0x9E3779B9u;
    private const uint WeylB = 0xBB67AE85u;
    private static readonly double TwoPow32Inverse = (float)2.3283064e-10;
    private static readonly double TwoPow32InverseTwoPi = (float)(2.3283064e-10 * 6.2831855);
    private readonly uint _keyLow;
    private readonly uint _keyHigh;
    private uint _offset;

    public PhiloxGenerator(ulong seed)
    {
        _keyLow = (uint)seed;
        _keyHigh = (uint)(seed >> 32);
    }

    public string Source => RandomSource.Nv;

    public void Fill(Span<float> destination)
    {
        var offset = _offset++;
        for (var i = 0; i < destination.Length; i++)
        {
            var (x, y) = Philox(offset, (uint)i);
            var u = x * TwoPow32Inverse + (double)(float)(TwoPow32Inverse / 2);
            var v = y * TwoPow32InverseTwoPi + (double)(float)(TwoPow32InverseTwoPi / 2);
            var s = Math.Sqrt(-2.0 * Math.Log(u));
            destination[i] = (float)(s * Math.Sin(v));
        }
    }

    /// <summary>The first two words of Philox 4×32 with 10 rounds on counter (offset, 0, index, 0).</summary>
    private (uint X, uint Y) Philox(uint offset, uint index)
    {
        uint c0 = offset, c1 = 0, c2 = index, c3 = 0;
        uint k0 = _keyLow, k1 = _keyHigh;
        for (var round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 = unchecked(k0 + WeylA);
                k1 = unchecked(k1 + WeylB);
            }

            var product0 = (ulong)c0 * MultiplierA;
            var product2 = (ulong)c2 * MultiplierB;
            var next0 = (uint)(product2 >> 32) ^ c1 ^ k0;
            var next2 = (uint)(product0 >> 32) ^ c3 ^ k1;
            c1 = (uint)product2;
            c3 = (uint)product0;
            c0 = next0;
            c2 = next2;
        }

        return (c0, c1);
    }
}
